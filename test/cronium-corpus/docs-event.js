const event = cronium.event();

console.log('Event ID:', event.id);
console.log('Event Name:', event.name);
console.log('Script Type:', event.type);
console.log('Run Location:', event.runLocation);
console.log('Success Count:', event.successCount || 0);
console.log('Failure Count:', event.failureCount || 0);

const server = event.server;
if (server) {
  console.log(`Running on server: ${server.name} (${server.address})`);
} else {
  console.log('Running locally');
}

if (event.type === 'NODEJS') {
  console.log('Running in Node.js environment');
}
cronium.output({ id: event.id, name: event.name, type: event.type, runLocation: event.runLocation, eventName: event.eventName, userId: event.userId });

const exampleApiKey = cronium.getVariable('EXAMPLE_API_KEY');
const redisHost = cronium.getVariable('REDIS_HOST') || 'localhost';

cronium.setVariable('LAST_PROCESSED', '2025-06-17T10:30:00Z');
cronium.setVariable('COUNTER', String(parseInt(cronium.getVariable('COUNTER') || '0') + 1));

console.log(`Processing count: ${cronium.getVariable('COUNTER')}`);
cronium.output({ key: exampleApiKey, redis: redisHost, counter: cronium.getVariable('COUNTER') });

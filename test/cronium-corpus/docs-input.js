// cronium is automatically available - no imports needed!
const inputData = cronium.input();
console.log('Received:', inputData);

const userId = inputData.user_id || 'unknown';
const message = inputData.message || 'Hello World';
const config = inputData.config || {};

if (message) {
    console.log(`Processing message: ${message}`);
}
cronium.output({ user_id: userId, message, config });

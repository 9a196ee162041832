/**
 * Example Node.js script with unified I/O (after Cronium's default template)
 */
console.log('Starting Node.js script execution...');

const inputData = cronium.input();
console.log('Input received:', inputData);

const exampleApiKey = process.env.EXAMPLE_API_KEY;
console.log('Environment variable example:', exampleApiKey ? 'API key found' : 'No API key set');

async function main() {
  try {
    const inputData = cronium.input();
    const result = {
      success: true,
      message: "Node.js processing completed",
      processed_input: inputData,
      calculation_result: 42,
      timestamp: new Date().toISOString()
    };
    cronium.output(result);
    return result;
  } catch (error) {
    const errorResult = { success: false, error: error.message, timestamp: new Date().toISOString() };
    cronium.output(errorResult);
    return errorResult;
  }
}

main()
  .then(result => console.log('Script completed successfully'))
  .catch(error => console.error('Script failed with error:', error));

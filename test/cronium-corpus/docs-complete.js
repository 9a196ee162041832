async function processItem(item, endpoint) {
  if (item < 0) throw new Error(`negative item ${item}`);
  return item * 2;
}

async function main() {
  const inputData = cronium.input();
  const event = cronium.event();

  console.log(`Processing event: ${event.name}`);

  const maxRetries = parseInt(cronium.getVariable('MAX_RETRIES') || '3');
  const apiEndpoint = cronium.getVariable('API_ENDPOINT');

  const items = inputData.items || [];
  const processedItems = [];
  const errors = [];
  for (const item of items) {
    try {
      processedItems.push(await processItem(item, apiEndpoint));
    } catch (error) {
      errors.push(error.message);
    }
  }

  const totalProcessed = parseInt(cronium.getVariable('TOTAL_PROCESSED') || '0');
  cronium.setVariable('TOTAL_PROCESSED', String(totalProcessed + processedItems.length));

  const successRate = items.length > 0 ? processedItems.length / items.length : 1;
  cronium.setCondition(successRate > 0.8);

  cronium.output({
    success: errors.length === 0,
    processedCount: processedItems.length,
    errorCount: errors.length,
    successRate,
    processedItems,
    errors,
    maxRetries,
  });
  console.log(`Processed ${processedItems.length} items with ${errors.length} errors`);
}

main().catch(console.error);

// After the scenarios of Cronium's SDK integration notes: input/output, variables, condition, event, errors.
const cronium = require("cronium");
const { CroniumAPIError, CroniumError } = require("cronium");

async function test() {
  const data = await cronium.input();
  console.log("Input:", JSON.stringify(data));

  await cronium.setVariable("counter", 1);
  await cronium.setVariable("last_run", new Date().toISOString());
  await cronium.setVariable("config", { mode: "test", debug: true });
  const counter = await cronium.getVariable("counter");
  const config = await cronium.getVariable("config");
  await cronium.setVariable("counter", counter + 1);

  let itemsProcessed = 0;
  if (Array.isArray(data)) {
    for (const item of data) itemsProcessed++;
  }
  await cronium.setCondition(itemsProcessed > 0);

  const event = await cronium.event();
  console.log(`Event Type: ${event.type}`);

  try {
    const value = await cronium.getVariable("non_existent_var");
    if (value === null) console.log("Variable not found");
    await cronium.output({ processed: true, count: data ? data.length : 0, config, items_processed: itemsProcessed });
  } catch (error) {
    if (error instanceof CroniumAPIError) console.log(`API Error: ${error.statusCode} - ${error.message}`);
    else if (error instanceof CroniumError) console.log(`Cronium Error: ${error.message}`);
    else throw error;
  }
}

test().catch(console.error);

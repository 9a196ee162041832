// Written against Cronium's Node.js SDK: require("cronium"), its functions (awaited), its error classes.
const cronium = require("cronium");
const { CroniumAPIError, CroniumError, CroniumTimeoutError } = require("cronium");

async function main() {
  const input = await cronium.getInput();
  const runs = (await cronium.getVariable("sdk_runs")) || 0;
  await cronium.setVariable("sdk_runs", runs + 1);
  await cronium.setCondition("yes");
  let refused = null;
  try {
    await cronium.setVariable("sdk_huge", "x".repeat(2 * 1024 * 1024));
  } catch (error) {
    if (error instanceof CroniumAPIError) refused = error.statusCode;
  }
  const ctx = await new cronium().event();
  await cronium.setOutput({
    runs_before: runs,
    refused,
    timeout_is_error: new CroniumTimeoutError("t") instanceof CroniumError,
    type: ctx.type,
    input,
    condition: await cronium.cronium.getCondition(),
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

function processData() {
  return 50;
}
const inputData = cronium.input();
const threshold = inputData.threshold || 100;
const currentValue = processData();

if (currentValue > threshold) {
  console.log(`Value ${currentValue} exceeds threshold ${threshold}`);
  cronium.setCondition(true);
} else {
  console.log(`Value ${currentValue} is within threshold`);
  cronium.setCondition(false);
}

const existingCondition = cronium.getCondition();
if (existingCondition) {
  console.log("Condition was previously set to true");
}

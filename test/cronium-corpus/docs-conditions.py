def process_data():
    return 150

input_data = cronium.input()
threshold = input_data.get('threshold', 100)
current_value = process_data()

if current_value > threshold:
    print(f"Value {current_value} exceeds threshold {threshold}")
    cronium.setCondition(True)
else:
    print(f"Value {current_value} is within threshold")
    cronium.setCondition(False)

existing_condition = cronium.getCondition()
if existing_condition:
    print("Condition was previously set to True")

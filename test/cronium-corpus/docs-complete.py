def process_item(item, endpoint):
    if item < 0:
        raise ValueError(f"negative item {item}")
    return item * 2

def main():
    input_data = cronium.input()
    event = cronium.event()

    print(f"Processing event: {event.get('name')}")

    max_retries = int(cronium.getVariable('MAX_RETRIES') or '3')
    api_endpoint = cronium.getVariable('API_ENDPOINT')

    items = input_data.get('items', [])
    processed_items = []
    errors = []
    for item in items:
        try:
            processed_items.append(process_item(item, api_endpoint))
        except Exception as e:
            errors.append(str(e))

    total_processed = int(cronium.getVariable('TOTAL_PROCESSED') or '0')
    cronium.setVariable('TOTAL_PROCESSED', str(total_processed + len(processed_items)))

    success_rate = len(processed_items) / len(items) if items else 1
    cronium.setCondition(success_rate > 0.8)

    cronium.output({
        "success": len(errors) == 0,
        "processed_count": len(processed_items),
        "error_count": len(errors),
        "success_rate": success_rate,
        "processed_items": processed_items,
        "errors": errors,
        "max_retries": max_retries,
    })
    print(f"Processed {len(processed_items)} items with {len(errors)} errors")

if __name__ == "__main__":
    main()

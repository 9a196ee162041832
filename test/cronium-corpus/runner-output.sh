#!/bin/bash
# After the Cronium runner's helper tests: the output set field by field.
cronium.output result "success"
cronium.output count 100
cronium.output nested '{"ok": true}'
echo "Output saved"

#!/bin/sh
# Food is taxed at the reduced rate, 7%.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "A103 2")
expect_eq "tax on 16.98 of olive oil" 1.19 "$(total_field tax "$c")"

#!/bin/sh
# runner.tests globs that leave the project root ('..' in them) are refused
# like absolute ones, before anything outside is listed.
. "$HT_SRC/tests/lib.sh"
test_need jq

mkdir -p outside/x proj/t proj/..x
echo 'exit 0' >outside/x/a.sh
echo 'exit 0' >outside/b.sh
echo 'exit 0' >proj/t/a.sh
echo 'exit 0' >proj/..x/c.sh
cd proj

for glob in '../*' '../outside/x/*.sh' 't/../../outside/x/*' './t/../../outside/*.sh' 't/..' '..' "$TRASH/outside/*.sh"; do
	test_expect_success "'$glob' is refused (78), nothing listed" '
		test_must_fail 78 ht-plan --set runner.run="sh {file}" --set "runner.tests=[\"$glob\"]" >out 2>err &&
		test ! -s out &&
		test_grep "runner.tests\[0\]: .* must be a path relative to the project root, inside it" err
	'
done

test_expect_success 'in hypertest.json, the message names the place' '
	printf "{\"runner\": {\"run\": \"sh {file}\", \"tests\": [\"t/*.sh\", \"t/../../outside/*.sh\"]}}\n" >hypertest.json &&
	test_must_fail 78 ht-plan >out 2>err &&
	test ! -s out &&
	test_grep "^ht-plan: error: hypertest.json:1:[0-9]*: runner.tests\[1\]: .t/\.\./\.\./outside/\*\.sh. must be" err &&
	rm hypertest.json
'

test_expect_success 'a name that only starts with two dots, and ., are inside' '
	ht-plan --set runner.run="sh {file}" --set "runner.tests=[\"..x/*.sh\", \"./t/./a.sh\"]" >out &&
	jq -r .name out >names &&
	printf "%s\n" "..x/c.sh" "t/a.sh" >expect &&
	test_cmp expect names
'

test_done

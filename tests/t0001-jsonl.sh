#!/bin/sh
# JSON Lines: good records pass through; each kind of bad line gets a message
# naming the line and exit code 65, and the good records around it survive.
. "$HT_SRC/tests/lib.sh"

test_expect_success 'records pass through compact, one per line' '
	printf "%s\n" "{\"schema\": \"ht.test/1\",  \"a\": [1, 2]}" "" "{\"schema\":\"ht.test/1\",\"b\":\"é\"}" >in &&
	ht-test-tool jsonl-cat <in >out &&
	printf "%s\n" "{\"schema\":\"ht.test/1\",\"a\":[1,2]}" "{\"schema\":\"ht.test/1\",\"b\":\"é\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'a last line without newline is still read when complete' '
	printf "{\"x\":1}" | ht-test-tool jsonl-cat >out &&
	echo "{\"x\":1}" >expect && test_cmp expect out
'

test_expect_success 'not an object: line named, exit 65, other records kept' '
	printf "%s\n" "{\"x\":1}" "[1,2]" "{\"x\":3}" >in &&
	test_expect_code 65 ht-test-tool jsonl-cat <in >out 2>err &&
	test_grep "^ht-test-tool: error: stdin:2: expected an object$" err &&
	test $(wc -l <out) -eq 2
'

test_expect_success 'not JSON: line and column named' '
	printf "%s\n" "{\"x\":1}" "{\"x\": tru}" >in &&
	test_expect_code 65 ht-test-tool jsonl-cat <in >out 2>err &&
	test_grep "error: stdin:2:[0-9]*: not valid JSON" err
'

test_expect_success 'too large: refused with the limit named, the next line read' '
	printf "{\"x\":\"%0300d\"}\n{\"y\":2}\n" 0 >in &&
	test_expect_code 65 ht-test-tool jsonl-cat --max 100 <in >out 2>err &&
	test_grep "error: stdin:1: record larger than 100 bytes" err &&
	echo "{\"y\":2}" >expect && test_cmp expect out
'

test_expect_success 'a huge line does not take the memory with it' '
	head -c 5000000 /dev/zero | tr "\0" "a" >big && echo >>big &&
	test_expect_code 65 ht-test-tool jsonl-cat <big 2>err &&
	test_grep "record larger than 1048576 bytes" err
'

test_expect_success 'truncated last line: said so' '
	printf "{\"x\":1}\n{\"x\":" >in &&
	test_expect_code 65 ht-test-tool jsonl-cat <in >out 2>err &&
	test_grep "error: stdin:2: truncated record (the input ends in the middle of a line)" err &&
	test $(wc -l <out) -eq 1
'

test_expect_success 'invalid UTF-8: line and byte named' '
	printf "{\"x\":\"ab\377\"}\n" >in &&
	test_expect_code 65 ht-test-tool jsonl-cat <in 2>err &&
	test_grep "error: stdin:1:9: invalid UTF-8" err
'

test_expect_success 'overlong UTF-8 and surrogates are invalid too' '
	printf "{\"x\":\"\300\257\"}\n{\"x\":\"\355\240\200\"}\n" >in &&
	test_expect_code 65 ht-test-tool jsonl-cat <in 2>err &&
	test $(grep -c "invalid UTF-8" err) -eq 2
'

test_expect_success 'duplicate keys are refused' '
	echo "{\"x\":1,\"x\":2}" >in &&
	test_expect_code 65 ht-test-tool jsonl-cat <in 2>err &&
	test_grep "stdin:1:.*duplicate" err
'

test_expect_success 'a NUL byte: refused with its line and byte, the next line read on its own' '
	printf "{\"x\":\"a\0b\"}\n{\"y\":2}\n  \0\n{\"z\":3}\n" >in &&
	test_expect_code 65 ht-test-tool jsonl-cat <in >out 2>err &&
	test_grep "^ht-test-tool: error: stdin:1:8: NUL byte in record$" err &&
	test_grep "^ht-test-tool: error: stdin:3:3: NUL byte in record$" err &&
	printf "%s\n" "{\"y\":2}" "{\"z\":3}" >expect && test_cmp expect out
'

test_expect_success 'the fuzzed plan with NUL bytes: no record lost, no line number shifted' '
	test_expect_code 65 ht-test-tool jsonl-cat <"$HT_SRC/tests/data/findings/jsonl-nul-glue.bin" >out 2>err &&
	sed -n "s/^ht-test-tool: error: stdin:\([0-9]*\):.*/\1/p" err | tr "\n" " " >lines &&
	printf "1 3 5 6 7 " >expect && test_cmp expect lines &&
	test_grep "stdin:7:[0-9]*: NUL byte in record" err &&
	jq -r .test_id out >ids &&
	printf "%s\n" t-t-ok2-sh-7ff15aa4 t-t-ok3-sh-cef2dc57 >expect && test_cmp expect ids
'

test_expect_success 'schema checked: wrong kind and wrong major version' '
	printf "%s\n" "{\"schema\":\"ht.result/1\"}" "{\"schema\":\"ht.test/2\"}" "{\"schema\":\"ht.test/1.3\"}" "{}" >in &&
	test_expect_code 65 ht-test-tool jsonl-cat --schema ht.test/1 <in >out 2>err &&
	test_grep "stdin:1: expected a ht.test/1 record, got .ht.result/1." err &&
	test_grep "stdin:2: unsupported version .ht.test/2." err &&
	test_grep "stdin:4: expected a ht.test/1 record, got one with no \"schema\"" err &&
	test $(wc -l <out) -eq 1
'

test_done

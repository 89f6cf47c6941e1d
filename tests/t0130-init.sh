#!/bin/sh
# ht-init: each kind of suite it detects, in a small project made here; the
# config it writes runs a plan (and, where the framework is here, a run);
# flags, questions on a terminal, files it will not overwrite.
. "$HT_SRC/tests/lib.sh"
test_need jq

# init DIR [ARGS]: ht-init -y in DIR, its stderr in DIR.err.
init() { _d=$1; shift; (cd "$_d" && ht-init -y "$@") 2>"$_d.err"; }
runner() { jq -c ".runner$2" "$1/hypertest.json"; }

test_expect_success 'a shell suite in git style: TAP from t/, run from its directory; the run passes' '
  mkdir -p git/t &&
  printf "echo 1..2\necho ok 1 - a\necho ok 2 - b\n" >git/t/t0001-basic.sh &&
  printf "echo 1..1\necho ok 1 - c\n" >git/t/t0002-more.sh &&
  echo ": helper" >git/t/test-lib.sh &&
  init git &&
  test_jq ".provider == \"local\" and .runner.tests == [\"t/t[0-9]*.sh\"] and .runner.cwd == \"{dir}\"
    and .runner.outcome == \"tap\" and (.runner | has(\"name\") | not)" git/hypertest.json &&
  test_grep "shell: 2 shell tests in git.s style" git.err &&
  test_grep "wrote ./hypertest.json" git.err &&
  (cd git && ht-doctor >/dev/null && ht-plan >plan && ht-invoke plan >res) &&
  test_jq -s "length == 2 and all(.status == \"passed\")" git/res
'

test_expect_success 'shell scripts with free names: every script of the directory' '
  mkdir -p shop/tests/lib &&
  echo "exit 0" >shop/tests/tax.sh && echo "exit 0" >shop/tests/money.sh && echo ": x" >shop/tests/lib/assert.sh &&
  init shop &&
  test_jq ".runner.tests == [\"tests/*.sh\"] and .runner.run == \"sh {file}\"" shop/hypertest.json &&
  (cd shop && ht-plan >plan && ht-invoke plan >res) && test_jq -s "length == 2 and all(.status == \"passed\")" shop/res
'

test_expect_success 'prove-style TAP scripts: perl with -Ilib, TAP outcome' '
  mkdir -p prove/t prove/lib &&
  printf "print \"1..1\\\\nok 1 - works\\\\n\";\n" >prove/t/basic.t &&
  init prove &&
  test_jq ".runner.tests == [\"t/*.t\"] and .runner.run == \"perl -Ilib {file}\" and .runner.outcome == \"tap\"" prove/hypertest.json &&
  (cd prove && ht-plan >plan && ht-invoke plan >res) && test_jq ".status == \"passed\"" prove/res
'

test_expect_success 'make check: one test, said so' '
  mkdir mk && printf "check:\n\t@echo all good\n" >mk/Makefile &&
  init mk &&
  test_jq ".runner.list == \"echo check\" and .runner.run == \"make {name}\"" mk/hypertest.json &&
  test_grep "could not split make check" mk.err &&
  (cd mk && ht-plan >plan) && test_jq ".name == \"check\"" mk/plan
'

test_expect_success 'pytest: its config files and test files; the plugin lists the node ids' '
  mkdir -p py/tests &&
  printf "[project]\nname = \"x\"\n\n[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n" >py/pyproject.toml &&
  printf "def test_a():\n    pass\n\ndef test_b():\n    pass\n" >py/tests/test_things.py &&
  printf "#!/bin/sh\nexit 0\n" >py/tests/test-helper.sh &&
  init py &&
  test_jq ".runner == {\"name\": \"pytest\"}" py/hypertest.json &&
  test_grep "pyproject.toml has \[tool.pytest.ini_options\]; 1 test file named" py.err &&
  test_grep "not chosen: shell" py.err &&
  if need_pytest 2>/dev/null; then
    (cd py && ht-plan >plan) && test_jq -s "map(.name) == [\"tests/test_things.py::test_a\", \"tests/test_things.py::test_b\"]" py/plan
  fi
'

test_expect_success 'go: one package per invocation, caches outside the read-only project' '
  mkdir -p gop/pkg/a && printf "module example.com/x\n\ngo 1.19\n" >gop/go.mod &&
  printf "package a\n" >gop/pkg/a/a_test.go &&
  init gop &&
  test_jq ".runner.list | startswith(\"go list -f\")" gop/hypertest.json &&
  test_jq ".runner.run == \"go test -count=1 -v {name}\" and .runner.env.GOCACHE == \"/tmp/go-cache\"
    and (.runner.env.GOMODCACHE | length > 0)" gop/hypertest.json &&
  test_grep "go.mod at the root, 1 \*_test.go file" gop.err
'

test_expect_success 'cargo: tests listed by the test binary, the name matched exactly' '
  mkdir carg && printf "[package]\nname = \"x\"\nversion = \"0.1.0\"\n" >carg/Cargo.toml &&
  init carg &&
  test_jq ".runner.shell == true and (.runner.list | contains(\"--list --format terse\"))
    and .runner.run == \"cargo test --offline -q -- --exact {name}\"" carg/hypertest.json
'

test_expect_success 'jest, vitest, mocha: by package.json, files by their names, node_modules left out' '
  mkdir -p js/src/util js/src/__tests__ js/node_modules/dep &&
  echo "{\"devDependencies\": {\"jest\": \"29\", \"jest-junit\": \"16\"}}" >js/package.json &&
  : >js/src/util/a.test.js && : >js/src/b.test.ts && : >js/src/__tests__/c.js && : >js/node_modules/dep/x.test.js &&
  init js &&
  test_jq ".runner.tests | sort == [\"src/**/*.test.js\", \"src/**/*.test.ts\", \"src/**/__tests__/**/*.js\"]" js/hypertest.json &&
  test_jq ".runner.outcome == \"junit\" and (.runner.run | contains(\"--runTestsByPath {file}\"))" js/hypertest.json &&
  (cd js && ht-plan >plan) && test_jq -s "map(.name) | sort == [\"src/__tests__/c.js\", \"src/b.test.ts\", \"src/util/a.test.js\"]" js/plan &&

  mkdir -p vt/test && echo "{\"devDependencies\": {\"vitest\": \"2\"}}" >vt/package.json && : >vt/test/x.spec.ts &&
  init vt && test_jq ".runner.tests == [\"test/**/*.spec.ts\"] and (.runner.run | contains(\"vitest run\"))" vt/hypertest.json &&

  mkdir -p mo/test && echo "{\"devDependencies\": {\"mocha\": \"10\"}}" >mo/package.json && : >mo/test/a.js && : >mo/test/b.js &&
  init mo && test_jq ".runner.tests == [\"test/*.js\"] and .runner.outcome == \"tap\"" mo/hypertest.json &&
  test_grep "node_modules is missing" mo.err
'

test_expect_success 'playwright: its config file wins over the spec files' '
  mkdir -p pw/tests && : >pw/playwright.config.ts && : >pw/tests/home.spec.ts &&
  echo "{\"devDependencies\": {\"@playwright/test\": \"1.65.1\"}}" >pw/package.json &&
  init pw &&
  test_grep "\* playwright: playwright.config.ts at the root; package.json depends on @playwright/test" pw.err &&
  test_jq ".runner.name == \"playwright\" or (.runner.run | contains(\"playwright test\"))" pw/hypertest.json
'

test_expect_success 'several suites: the strongest chosen, the others named with their flag; --kind picks one' '
  mkdir -p both/tests && printf "[pytest]\n" >both/pytest.ini && : >both/tests/test_a.py &&
  echo "exit 0" >both/tests/test-cli.sh &&
  init both && test_jq ".runner.name == \"pytest\"" both/hypertest.json &&
  test_grep "not chosen: shell (ht-init --kind shell)" both.err &&
  init both --kind shell --force && test_jq ".runner.tests == [\"tests/test*.sh\"]" both/hypertest.json
'

test_expect_success 'flags: provider, concurrency; --dry-run writes nothing' '
  (cd shop && ht-init -y -n -j 7 >out 2>err) && test_jq ".concurrency == 7 and .provider == \"local\"" shop/out &&
  rm shop/hypertest.json && (cd shop && ht-init -n -y >/dev/null 2>&1) && test ! -e shop/hypertest.json &&
  init shop --provider aws --region eu-west-1 --name shop-tests &&
  test_jq ".provider == \"aws\" and .aws.function == \"shop-tests\" and .aws.region == \"eu-west-1\"
    and (.aws.bucket | test(\"^shop-tests-hypertest-[0-9a-f]{8}$\"))
    and .image.base == \"public.ecr.aws/lambda/provided:al2023\"" shop/hypertest.json &&
  init shop --provider aws --force --name abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcd &&
  test_jq ".aws.function | length == 48" shop/hypertest.json &&
  test_jq ".aws.bucket | length <= 63 and test(\"^[a-z0-9][a-z0-9-]*[a-z0-9]$\")" shop/hypertest.json
'

test_expect_success 'a file that exists is not overwritten (73) unless --force' '
  echo "{\"concurrency\": 3}" >git/hypertest.json &&
  (cd git && test_must_fail 73 ht-init -y 2>../err) && test_grep "exists: not overwritten (--force" err &&
  test_jq ".concurrency == 3" git/hypertest.json &&
  init git --force && test_jq ".runner.outcome == \"tap\"" git/hypertest.json
'

test_expect_success 'nothing found (66); a kind not found (66); a bad kind, name or provider (64)' '
  mkdir empty && echo hello >empty/README &&
  (cd empty && test_must_fail 66 ht-init -y 2>../err) && test_grep "no test suite found in" err && test ! -e empty/hypertest.json &&
  (cd git && test_must_fail 66 ht-init -y --force --kind go 2>../err) && test_grep "no go suite found" err &&
  test_must_fail 64 ht-init --kind nose 2>err && test_grep "not one of playwright, pytest" err &&
  test_must_fail 64 ht-init --name "Bad Name" 2>err &&
  test_must_fail 64 ht-init --provider gcp 2>err &&
  test_must_fail 64 ht-init --aws --provider local 2>err
'

if have script; then
test_expect_success 'on a terminal it asks: suite, provider, concurrency (defaults on empty lines)' '
  rm -f both/hypertest.json &&
  printf "shell\n\n4\n" >answers &&
  (cd both && script -qec "ht-init" /dev/null <../answers >../tty.out 2>&1) &&
  test_grep "Test suite (playwright, pytest" tty.out &&
  test_grep "Provider (local, aws) \[local\]" tty.out &&
  test_jq ".runner.tests == [\"tests/test*.sh\"] and .concurrency == 4 and .provider == \"local\"" both/hypertest.json
'
test_expect_success 'a wrong answer is asked again; no answer writes nothing (64)' '
  rm -f both/hypertest.json &&
  printf "nose\npytest\naws\n\n" >answers &&
  (cd both && script -qec "ht-init --region us-east-1" /dev/null <../answers >../tty.out 2>&1) &&
  test_grep "not a suite this knows" tty.out &&
  test_jq ".runner.name == \"pytest\" and .provider == \"aws\"" both/hypertest.json &&
  rm both/hypertest.json && : >none &&
  (cd both && script -qec "ht-init" /dev/null <../none >../tty.out 2>&1; echo $? >../rc) &&
  test ! -e both/hypertest.json
'
else
test_skip 'questions on a terminal' 'script(1) is not installed'
fi

test_done

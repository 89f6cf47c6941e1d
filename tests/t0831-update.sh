#!/bin/sh
# ht-update against moto's Lambda (signature checking on), through the
# stand-in proxy (tests/helpers/ht-aws-standin.py), which plays what moto
# cannot: moto finishes every update at once and has no state manager for
# Lambda, so the InProgress, stuck and Failed answers of GetFunction come
# from the stand-in; it also plays expired tokens.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/awsdeploy-lib.sh"

REPO=123456789012.dkr.ecr.us-east-1.amazonaws.com/my-tests
D1=sha256:$(printf one | sha256sum | cut -c1-64)
D2=sha256:$(printf two | sha256sum | cut -c1-64)
D3=sha256:$(printf three | sha256sum | cut -c1-64)
# pushed DIGEST ARCH: an ht.pushed/1 record as ht-push writes it.
pushed() {
  printf '{"schema":"ht.pushed/1","ok":true,"reference":"%s@%s","registry":"%s","repository":"my-tests","digest":"%s","platform":{"os":"linux","architecture":"%s"}}\n' \
    "$REPO" "$1" "${REPO%%/*}" "$1" "$2"
}
printf '{"provider":"aws","aws":{"function":"fn","bucket":"b"}}\n' >hypertest.json

test_expect_success 'Image and Zip functions in moto' '
  curl -sf -X POST "$MOTO_URL/moto-api/config" -d "{\"lambda\":{\"use_docker\":false}}" >/dev/null &&
  make_role &&
  create_image_function fn x86_64 "$REPO:latest" &&
  create_image_function fnarm arm64 "$REPO:latest" &&
  python3 -c "
import zipfile, io, base64, json
b = io.BytesIO(); z = zipfile.ZipFile(b, \"w\"); z.writestr(\"f.py\", \"def h(e, c): return 1\n\"); z.close()
print(json.dumps({\"FunctionName\": \"fnzip\", \"Runtime\": \"python3.11\", \"Handler\": \"f.h\",
  \"Role\": \"arn:aws:iam::123456789012:role/fnrole\", \"Code\": {\"ZipFile\": base64.b64encode(b.getvalue()).decode()}}))" >zip.json &&
  ht-aws-probe -H "Content-Type: application/json" call lambda POST /2015-03-31/functions zip.json >out &&
  head -n 1 out | grep -q 201
'

test_expect_success 'the happy path: updated, Successful, ht.function/1' '
  pushed $D1 amd64 | ht-update >rec 2>err &&
  test_jq ".schema == \"ht.function/1\" and .ok == true and .updated == true and .function == \"fn\"
    and .region == \"us-east-1\" and .image_uri == \"$REPO@$D1\" and .digest == \"$D1\"
    and .last_update_status == \"Successful\" and (.arn | endswith(\":function:fn\"))
    and (.duration_ms | type == \"number\")" rec &&
  test "$(grep -c "PUT /2015-03-31/functions/fn/code" "$STANDIN_LOG")" = 1 &&
  ht-aws-probe -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    call lambda GET /2015-03-31/functions/fn >now &&
  sed -n 2p now | jq -e ".Code.ImageUri == \"$REPO@$D1\"" >/dev/null
'

test_expect_success 'an image already live is not updated again' '
  pushed $D1 amd64 | ht-update >rec &&
  test_jq ".ok == true and .updated == false and .last_update_status == \"Successful\"" rec &&
  test "$(grep -c "PUT /2015-03-31/functions/fn/code" "$STANDIN_LOG")" = 1 &&
  pushed $D1 amd64 | ht-update --force >rec &&
  test_jq ".updated == true" rec &&
  test "$(grep -c "PUT /2015-03-31/functions/fn/code" "$STANDIN_LOG")" = 2
'

test_expect_success 'InProgress for some looks, then Successful (polled with backoff)' '
  standin lambda "{\"statuses\":[\"InProgress\",\"InProgress\",\"InProgress\",\"Successful\"]}" &&
  before=$(grep -c "GET /2015-03-31/functions/fn " "$STANDIN_LOG") &&
  ht-update --poll-ms 50 -i "$REPO@$D2" -a amd64 >rec 2>err &&
  test_jq ".ok == true and .updated == true and .last_update_status == \"Successful\"" rec &&
  after=$(grep -c "GET /2015-03-31/functions/fn " "$STANDIN_LOG") &&
  test $((after - before)) = 5
'

test_expect_success 'stuck InProgress: the wait limit ends it with 75 and a clear error' '
  standin lambda "{\"statuses\":[\"InProgress\"]}" &&
  test_must_fail 75 ht-update --poll-ms 100 --set aws.update_timeout_s=1 -i "$REPO@$D3" >rec 2>err &&
  test_grep "function '\''fn'\'' is still updating after 1 s" err &&
  test_jq ".ok == false and .updated == true and .last_update_status == \"InProgress\" and .error.code == \"timeout\"" rec
'

test_expect_success 'a Failed update: exit 1 with Lambda'\''s reason' '
  standin lambda "{\"statuses\":[\"InProgress\",\"Failed\"],\"reason\":\"The image manifest or layer media type is not supported.\",\"reason_code\":\"ImageNotFound\"}" &&
  test_must_fail 1 ht-update --poll-ms 20 -i "$REPO@$D2" --force >rec 2>err &&
  test_grep "the update of function '\''fn'\'' failed: The image manifest or layer media type is not supported. (ImageNotFound)" err &&
  test_jq ".ok == false and .last_update_status == \"Failed\" and .error.code == \"update_failed\"
    and .last_update_status_reason == \"The image manifest or layer media type is not supported.\"" rec &&
  standin lambda "{}"
'

test_expect_success 'a Zip function is refused plainly (78), nothing updated' '
  n=$(grep -c "/code " "$STANDIN_LOG") &&
  test_must_fail 78 ht-update -f fnzip -i "$REPO@$D1" >rec 2>err &&
  test_grep "function '\''fnzip'\'' has package type Zip, not Image" err &&
  test_jq ".ok == false and .error.code == \"not_image\" and .updated == false" rec &&
  test "$(grep -c "/code " "$STANDIN_LOG")" = "$n"
'

test_expect_success 'an architecture mismatch is refused (65), both ways' '
  pushed $D1 arm64 | test_must_fail 65 ht-update >rec 2>err &&
  test_grep "function '\''fn'\'' runs on x86_64, but the image is for arm64" err &&
  test_jq ".error.code == \"architecture\"" rec &&
  pushed $D1 amd64 | test_must_fail 65 ht-update -f fnarm 2>err >rec &&
  test_grep "runs on arm64, but the image is for amd64" err &&
  pushed $D1 arm64 | ht-update -f fnarm >rec &&
  test_jq ".ok == true and .updated == true" rec
'

test_expect_success 'the wrong region: the function is not found there, and the region is named (66)' '
  test_must_fail 66 ht-update --set aws.region=eu-west-1 -i "$REPO@$D1" >rec 2>err &&
  test_grep "function '\''fn'\'' not found in region eu-west-1" err &&
  test_jq ".ok == false and .error.code == \"not_found\" and .region == \"eu-west-1\"" rec
'

test_expect_success 'expired credentials: 77 (the stand-in answers ExpiredTokenException)' '
  standin expired "{\"on\":true}" &&
  AWS_SESSION_TOKEN=old-token test_must_fail 77 ht-update -i "$REPO@$D1" >rec 2>err;
  rc=$?; standin expired "{\"on\":false}"; test $rc = 0 &&
  test_grep "ExpiredTokenException" err &&
  test_jq ".ok == false and .error.code == \"credentials\"" rec
'

test_expect_success 'a wrong secret key is refused by moto (77)' '
  AWS_SECRET_ACCESS_KEY=bad test_must_fail 77 ht-update -i "$REPO@$D1" >rec 2>err &&
  test_grep SignatureDoesNotMatch err
'

test_expect_success 'bad input: a tag instead of a digest, a failed push, not a record' '
  test_must_fail 64 ht-update -i "$REPO:latest" 2>err &&
  test_grep "not pinned to a digest" err &&
  echo "{\"schema\":\"ht.pushed/1\",\"ok\":false,\"error\":{\"code\":\"unauthorized\"}}" |
    test_must_fail 1 ht-update >rec 2>err &&
  test_jq ".ok == false and .error.code == \"unauthorized\"" rec &&
  echo "[1]" | test_must_fail 65 ht-update 2>err &&
  test_grep "stdin:1" err
'

test_expect_success 'no function configured is a usage error' '
  echo "{}" >hypertest.json &&
  test_must_fail 64 ht-update -i "$REPO@$D1" 2>err &&
  test_grep "no function" err
'

test_done

// bench/aws-fanout.js: the AWS SDK for JavaScript v3 baseline of
// bench/aws-fanout.sh. Sends N signed Invoke calls (RequestResponse, log
// tail) to URL, at most C at a time (p-limit), over one keep-alive agent
// with maxSockets = C. Prints "ok=N failed=N".
//   node bench/aws-fanout.js URL N C
'use strict';
const http = require('http');
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const pLimit = require('p-limit');

async function main() {
  const [url, ns, cs] = process.argv.slice(2);
  const n = Number(ns), c = Number(cs);
  const agent = new http.Agent({ keepAlive: true, maxSockets: c });
  const client = new LambdaClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'AKIAEXAMPLEBENCH0000', secretAccessKey: 'bench-secret' },
    requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    maxAttempts: 1,
  });
  const limit = pLimit(c);
  let ok = 0, failed = 0;
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const event = JSON.stringify({ schema: 'ht.test/1', run_id: 'bench', test_id: `t${i}`,
      name: `tests/t${i}.sh`, runner: 'command', timeout_s: 30, run: { shell: 'true' }, attempt: 1 });
    jobs.push(limit(async () => {
      try {
        const r = await client.send(new InvokeCommand({ FunctionName: 'fn', InvocationType: 'RequestResponse',
          LogType: 'Tail', Payload: Buffer.from(event) }));
        if (r.StatusCode === 200 && !r.FunctionError) ok++; else failed++;
      } catch (e) {
        failed++;
        if (failed === 1) console.error(`aws-fanout.js: ${e.name}: ${e.message}`);
      }
    }));
  }
  await Promise.all(jobs);
  agent.destroy();
  console.log(`ok=${ok} failed=${failed}`);
}
main();

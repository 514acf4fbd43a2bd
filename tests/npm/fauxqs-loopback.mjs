// Runs fauxqs (the SNS/SQS emulator) on 127.0.0.1 only: its own CLI binds
// 0.0.0.0. Usage: node fauxqs-loopback.mjs PORT_FILE [PORT]
// Port 0 (the default) picks a free port; the chosen port is written to
// PORT_FILE once the server accepts connections. SIGTERM stops it.
import { writeFileSync, renameSync } from "node:fs";
import { buildApp } from "fauxqs";

const portFile = process.argv[2];
const port = Number(process.argv[3] ?? 0);
if (!portFile) {
    console.error("usage: node fauxqs-loopback.mjs PORT_FILE [PORT]");
    process.exit(2);
}

// Queue URLs use this host; *.localhost resolves to 127.0.0.1 in libcurl.
const app = buildApp({ logger: false, host: "localhost" });
const address = await app.listen({ port, host: "127.0.0.1" });
const actual = new URL(address).port;
writeFileSync(`${portFile}.tmp`, `${actual}\n`);
renameSync(`${portFile}.tmp`, portFile);
console.log(`fauxqs listening on ${address}`);

const stop = () => app.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

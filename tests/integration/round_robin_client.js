// A Node (@grpc/grpc-js) client set up as the README's load-spreading snippet: it sends N
// Summarize calls to TARGET, with the round_robin policy unless POLICY is "pick_first".
// Usage: node round_robin_client.js TARGET N [round_robin|pick_first]
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const [target, count, policy = "round_robin"] = process.argv.slice(2);
const repo = path.resolve(__dirname, "..", "..");
const definition = protoLoader.loadSync("newsbrief/v1/newsbrief.proto", {
  includeDirs: [path.join(repo, "proto")],
});
const { SummarizerService } = grpc.loadPackageDefinition(definition).newsbrief.v1;

const client = new SummarizerService(target, grpc.credentials.createInsecure(), {
  "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ [policy]: {} }] }),
});

async function main() {
  const text = "The council approved a new park on Tuesday. It will cost 45 million dollars.";
  for (let i = 0; i < Number(count); i++) {
    await new Promise((resolve, reject) =>
      client.Summarize({ text }, { deadline: Date.now() + 30000 }, (err, reply) =>
        err ? reject(err) : resolve(reply),
      ),
    );
  }
  client.close();
  console.log(JSON.stringify({ calls: Number(count) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

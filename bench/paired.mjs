// Paired throughput: `node bench/paired.mjs [fastify|express] [servers] [pairs] [seconds]`
// (default: fastify bare,package 8 2; run after a build). Where run.mjs measures each server
// for 10 s one after another, this keeps the servers up side by side and loads them in turn
// with short bursts, `pairs` times, in alternating order, then prints each server's median
// req/s and the median over pairs of its ratio to the first server. Host noise that lasts
// seconds then hits both sides of a pair: the ratio varies less than between 10 s runs.
import { build } from './build.mjs';

if (process.env.BENCH_SKIP_BUILD !== '1') build();
const { LABELS, createTraffic, load, median, startServer } = await import('./harness.mjs');

const [adapter = 'fastify', list = 'bare,package', pairs = '8', seconds = '2'] = process.argv.slice(2);
const servers = list.split(',');
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);

const instances = [];
try {
  for (const server of servers) instances.push(await startServer(adapter, server));
  const traffic = createTraffic();
  for (const instance of instances) await load(instance.url, traffic, 2, connections); // warm-up
  const rates = servers.map(() => []);
  for (let pair = 0; pair < Number(pairs); pair++) {
    const order = [...servers.keys()];
    if (pair % 2) order.reverse();
    for (const i of order) {
      const result = await load(instances[i].url, traffic, Number(seconds), connections);
      if (result.non2xx || result.errors)
        throw new Error(`${servers[i]}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      rates[i].push(result.requests.average);
    }
  }
  console.log(
    `${adapter}: ${pairs} rounds of ${seconds} s bursts, ${connections} connections, servers side by side`,
  );
  servers.forEach((server, i) => {
    const ratios = rates[i].map((rate, pair) => rate / rates[0][pair]);
    console.log(
      `  ${(LABELS[server] ?? server).padEnd(22)} ${Math.round(median(rates[i])).toString().padStart(7)} req/s` +
        `  ${median(ratios).toFixed(3)}x ${LABELS[servers[0]] ?? servers[0]} (median of pairs; ` +
        `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
    );
  });
} finally {
  for (const instance of instances) await instance.stop();
}

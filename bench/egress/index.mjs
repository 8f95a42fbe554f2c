// Orderly's outbound fetches during the benchmark pass through here: loopback addresses go on
// (the mock accounting API), anything else is refused, so a run never reaches the internet.
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export default {
  fetch(request) {
    const { hostname } = new URL(request.url);
    if (LOOPBACK.has(hostname)) return fetch(request);
    return new Response(`bench network is loopback only: ${request.method} ${request.url}`, { status: 599 });
  },
};

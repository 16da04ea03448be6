// bench/js-probe.mjs: the js-libp2p side of bench/verdict.sh.
//
// Starts a js-libp2p 3.x node listening on the swarm port, with @libp2p/autonat-v2's client (and
// identify, which it depends on), dials the given AutoNAT servers, and exits as soon as
// autonat-v2 has reached a verdict on every candidate address. Prints one JSON line:
//   {"event":"verdict","ms":<since process start>,"msSinceStart":<since node.start()>,
//    "results":{"<addr>":"reachable"|"unreachable"|"unknown"},...}
//
//   node js-probe.mjs --server MA... [--listen MA]... [--candidate MA]...
//                     [--map-ipv4 INTERNAL_IP:PORT=EXTERNAL_IP] [--timeout MS]
//
// Where the verdict comes from (read in @libp2p/autonat-v2 2.0.15 dist/src/client.js): the
// client asks each server that speaks /libp2p/autonat/2/dial-request (topology onConnect, after
// identify) to dial every unverified public address; one OK confirms a transport or IP-mapping
// address (REQUIRED_SUCCESSFUL_DIALS = 4 only for "observed" ones), eight E_DIAL_ERRORs from eight
// network segments (first octet / first hextet) unconfirm it (REQUIRED_FAILED_DIALS = 8). It
// records the decision with addressManager.confirmObservedAddr() or removeObservedAddr(): those
// two calls are the hook used here. The 'self:peer:update' event is no good: the address manager
// debounces it by a second, and it does not fire at all when a never-verified address is
// unconfirmed.
//
// --map-ipv4: js's identify ignores every TCP observed address (js-libp2p issue 2620), so behind
// a NAT js has no IPv4 candidate at all unless told the public IP, as its UPnP service would with
// addPublicAddressMapping(). This adds that mapping (internal IP:port -> external IP, same port),
// which is the candidate Porthole forms itself: the observed IP with the swarm port.
//
// Modules are loaded from tests/interop/node_modules (the pinned js-libp2p of the interop suite).

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const modules = join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'interop', 'node_modules')

/** Import `name` (optionally a subpath like "./keys") from the interop suite's node_modules. */
async function load (name, subpath = '.') {
  const dir = join(modules, ...name.split('/'))
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  let entry = pkg.exports?.[subpath] ?? (subpath === '.' ? pkg.exports : undefined)
  while (entry != null && typeof entry === 'object') entry = entry.import ?? entry.default ?? entry.node
  if (entry == null && subpath === '.') entry = pkg.module ?? pkg.main ?? 'index.js'
  if (typeof entry !== 'string') throw new Error(`cannot resolve ${name} ${subpath}`)
  return import(pathToFileURL(join(dir, entry)).href)
}

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

function parseArgs (argv) {
  const o = { servers: [], listen: [], candidates: [], map: null, timeout: 30000 }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    switch (a) {
      case '--server': o.servers.push(val()); break
      case '--listen': o.listen.push(val()); break
      case '--candidate': o.candidates.push(val()); break
      case '--map-ipv4': {
        const m = /^([0-9.]+):([0-9]+)=([0-9.]+)$/.exec(val())
        if (m == null) throw new Error('--map-ipv4 takes INTERNAL_IP:PORT=EXTERNAL_IP')
        o.map = { internalIp: m[1], port: Number(m[2]), externalIp: m[3] }
        break
      }
      case '--timeout': o.timeout = Number(val()); break
      default: throw new Error(`unknown argument "${a}"`)
    }
  }
  if (o.servers.length === 0) throw new Error('give at least one --server')
  if (o.listen.length === 0) o.listen.push('/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001')
  return o
}

async function main () {
  const o = parseArgs(process.argv.slice(2))
  const [{ createLibp2p }, { tcp }, { noise }, { yamux }, { identify }, { autoNATv2 },
    { generateKeyPair }, { multiaddr }] = await Promise.all([
    load('libp2p'), load('@libp2p/tcp'), load('@chainsafe/libp2p-noise'),
    load('@chainsafe/libp2p-yamux'), load('@libp2p/identify'), load('@libp2p/autonat-v2'),
    load('@libp2p/crypto', './keys'), load('@multiformats/multiaddr')
  ])

  const node = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: o.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    services: { identify: identify(), autoNATv2: autoNATv2() },
    connectionManager: { resolvers: {} },
    connectionGater: { denyDialMultiaddr: async (ma) => ma.getComponents().some(c => c.name.startsWith('dns')) },
    start: false
  })

  // The verdict hook: autonat-v2's client decides through these two address-manager calls.
  const am = node.components.addressManager
  const results = new Map(o.candidates.map(c => [multiaddr(c).toString(), 'unknown']))
  let done = () => {}
  const finished = new Promise(resolve => { done = resolve })
  const record = (addr, verdict) => {
    const key = addr.decapsulateCode?.(421)?.toString() ?? addr.toString() // 421: /p2p
    if (!results.has(key)) results.set(key, 'unknown')
    if (results.get(key) === 'unknown') results.set(key, verdict)
    if (o.candidates.length > 0 && [...results.values()].every(v => v !== 'unknown')) done()
  }
  const confirm = am.confirmObservedAddr.bind(am)
  const remove = am.removeObservedAddr.bind(am)
  am.confirmObservedAddr = (addr, options) => { confirm(addr, options); record(addr, 'reachable') }
  am.removeObservedAddr = (addr, options) => { remove(addr, options); record(addr, 'unreachable') }

  const startedAt = performance.now()
  await node.start()
  if (o.map != null) {
    am.addPublicAddressMapping(o.map.internalIp, o.map.port, o.map.externalIp, o.map.port, 'tcp')
  }

  // One dial per server peer, with all of its addresses (js picks).
  const byPeer = new Map()
  for (const s of o.servers) {
    const id = s.split('/p2p/')[1]
    if (id == null) throw new Error(`--server ${s} has no /p2p/`)
    byPeer.set(id, [...(byPeer.get(id) ?? []), multiaddr(s)])
  }
  const dialErrors = []
  for (const addrs of byPeer.values()) {
    node.dial(addrs, { signal: AbortSignal.timeout(o.timeout) })
      .catch(err => dialErrors.push(err.message))
  }

  const timer = setTimeout(done, o.timeout)
  await finished
  clearTimeout(timer)
  const now = performance.now()
  const out = {
    event: 'verdict',
    ms: Math.round(now),
    msSinceStart: Math.round(now - startedAt),
    results: Object.fromEntries(results),
    complete: [...results.values()].every(v => v !== 'unknown'),
    servers: byPeer.size
  }
  if (dialErrors.length > 0) out.dialErrors = dialErrors
  emit(out)
  // Exit at once: the verdict is what is timed, not js-libp2p's shutdown.
  process.stdout.write('', () => process.exit(out.complete ? 0 : 3))
}

main().catch(err => {
  emit({ event: 'error', message: err?.message ?? String(err) })
  process.stdout.write('', () => process.exit(1))
})

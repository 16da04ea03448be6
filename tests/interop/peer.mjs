// Porthole interop test peer: a small, configurable js-libp2p node.
//
// Run it with the Node 22 binary that build-aux/install-test-node.sh prints
// (js-libp2p 3.x needs Node >= 22). See README.md for the CLI and the JSON
// lines it prints; `--help` prints the options.
//
// The node never reaches the real network: no bootstrap, mDNS, DHT, relay,
// UPnP or DNS. It dials only what --dial names (and what AutoNAT requests ask
// a server to dial back), and refuses any DNS-based multiaddr.

import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { autoNAT } from '@libp2p/autonat'
import { autoNATv2 } from '@libp2p/autonat-v2'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { readFileSync, writeFileSync, fstatSync } from 'node:fs'
import { randomBytes } from 'node:crypto'

const ECHO_PROTOCOL = '/porthole/echo/1.0.0'
const AUTONAT_V1_PROTOCOL = '/libp2p/autonat/1.0.0'
const AUTONAT_V2_DIAL_REQUEST = '/libp2p/autonat/2/dial-request'
const AUTONAT_V2_DIAL_BACK = '/libp2p/autonat/2/dial-back'

const USAGE = `usage: node peer.mjs [options]

Identity
  --key ed25519|rsa|secp256k1   key type to generate (default ed25519; rsa is 2048-bit)
  --key-file PATH               load a libp2p PrivateKey protobuf (raw bytes, or base64
                                text as in kubo's Identity.PrivKey); overrides --key
  --save-key PATH               write the private key (protobuf bytes) to PATH

Network
  --listen MULTIADDR            listen address, repeatable (default /ip4/127.0.0.1/tcp/0)
  --no-listen                   do not listen at all
  --announce MULTIADDR          announce this address instead of the listen addresses (repeatable)
  --max-connections N           connection-manager limit (default 1000)
  --no-monitor                  disable js-libp2p's connection monitor (it pings every
                                connection every 10 s and aborts it when a ping fails)
  --no-auto-confirm             keep js-libp2p's default of hiding public-looking listen
                                addresses until AutoNAT verified them (see README)
  --agent STRING                identify agentVersion (default porthole-interop-peer/js-libp2p)

Services
  --echo                        serve ${ECHO_PROTOCOL} (echoes every byte, closes on EOF)
  --autonat-v1                  run @libp2p/autonat (v1 server + client)
  --autonat-v2                  run @libp2p/autonat-v2 (v2 server + client)

Dial mode (exit 0 on success, 1 on failure)
  --dial MULTIADDR              dial this peer, wait for identify, then run the steps below
  --pings N                     ping the peer N times (default 3)
  --streams M                   open M concurrent echo streams at once (default 0)
  --echo-bytes B                bytes sent (and expected back) per echo stream (default 65536)
  --probe-v1 MULTIADDR          ask the dialed peer (AutoNAT v1 server) to dial MULTIADDR back
  --probe-v2 MULTIADDR          ask the dialed peer (AutoNAT v2 server) to dial MULTIADDR back
                                (both repeatable; the word "observed" stands for the address
                                the peer's identify reported seeing us at)
  --expect-v1 STATUS            fail unless the preceding --probe-v1 gets STATUS: OK,
                                E_DIAL_ERROR, E_DIAL_REFUSED, E_BAD_REQUEST, E_INTERNAL_ERROR,
                                NO_RESPONSE (stream or connection closed without an answer)
  --expect-v2 STATUS            fail unless the preceding --probe-v2 ends in STATUS: OK (dialStatus
                                OK and the nonce arrived), OK_WITHOUT_NONCE, E_DIAL_ERROR,
                                E_DIAL_BACK_ERROR, E_DIAL_REFUSED, E_REQUEST_REJECTED,
                                E_INTERNAL_ERROR, NO_RESPONSE
  --timeout MS                  deadline for the whole dial-mode run (default 60000)
  --hold                        stay up after "done" until SIGTERM / stdin EOF

Lifetime
  Exits cleanly on SIGTERM/SIGINT, and on EOF of stdin when stdin is a pipe, socket or
  terminal (not /dev/null or a file). --no-stdin disables the stdin watch.
`

// ---------------------------------------------------------------------------
// Output: one JSON object per line on stdout. Diagnostics go to stderr
// (set DEBUG=libp2p:* for js-libp2p's own logging).

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

/** Wait until everything written to stdout has been handed to the OS. */
function flushStdout () {
  return new Promise(resolve => process.stdout.write('', () => resolve()))
}

function usageError (msg) {
  process.stderr.write(`peer.mjs: ${msg}\n\n${USAGE}`)
  process.exit(2)
}

// ---------------------------------------------------------------------------
// Arguments

function parseArgs (argv) {
  const o = {
    key: 'ed25519',
    keyFile: null,
    saveKey: null,
    listen: [],
    noListen: false,
    announce: [],
    maxConnections: 1000,
    monitor: true,
    agent: 'porthole-interop-peer/js-libp2p',
    echo: false,
    autonatV1: false,
    autonatV2: false,
    dial: null,
    pings: 3,
    streams: 0,
    echoBytes: 65536,
    probeV1: [], // [{ addr, expect }]
    probeV2: [],
    timeout: 60000,
    hold: false,
    autoConfirm: true,
    stdinWatch: true
  }

  const int = (name, v, min) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < min) usageError(`${name} needs an integer >= ${min}, got "${v}"`)
    return n
  }

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      if (i + 1 >= argv.length) usageError(`${a} needs a value`)
      return argv[++i]
    }
    switch (a) {
      case '--key': o.key = val().toLowerCase(); break
      case '--key-file': o.keyFile = val(); break
      case '--save-key': o.saveKey = val(); break
      case '--listen': o.listen.push(val()); break
      case '--no-listen': o.noListen = true; break
      case '--announce': o.announce.push(val()); break
      case '--max-connections': o.maxConnections = int(a, val(), 1); break
      case '--no-monitor': o.monitor = false; break
      case '--no-auto-confirm': o.autoConfirm = false; break
      case '--agent': o.agent = val(); break
      case '--echo': o.echo = true; break
      case '--autonat-v1': o.autonatV1 = true; break
      case '--autonat-v2': o.autonatV2 = true; break
      case '--dial': o.dial = val(); break
      case '--pings': o.pings = int(a, val(), 0); break
      case '--streams': o.streams = int(a, val(), 0); break
      case '--echo-bytes': o.echoBytes = int(a, val(), 0); break
      case '--probe-v1': o.probeV1.push({ addr: val(), expect: null }); break
      case '--probe-v2': o.probeV2.push({ addr: val(), expect: null }); break
      case '--expect-v1': expectFor(o.probeV1, a).expect = val(); break
      case '--expect-v2': expectFor(o.probeV2, a).expect = val(); break
      case '--timeout': o.timeout = int(a, val(), 1); break
      case '--hold': o.hold = true; break
      case '--no-stdin': o.stdinWatch = false; break
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0); break
      default: usageError(`unknown argument "${a}"`)
    }
  }

  if (!['ed25519', 'rsa', 'secp256k1'].includes(o.key)) usageError(`unknown key type "${o.key}"`)
  if (o.noListen && o.listen.length > 0) usageError('--no-listen and --listen exclude each other')
  if (!o.noListen && o.listen.length === 0) o.listen.push('/ip4/127.0.0.1/tcp/0')
  if (o.dial == null && (o.probeV1.length > 0 || o.probeV2.length > 0 || o.streams > 0)) {
    usageError('--probe-v1/--probe-v2/--streams need --dial')
  }

  // Parse every multiaddr up front so that typos fail fast, and refuse DNS
  // names: the test network has no resolver and must never reach a real one.
  const probes = [...o.probeV1, ...o.probeV2].map(p => p.addr).filter(s => s !== 'observed')
  for (const s of [...o.listen, ...o.announce, ...probes, ...(o.dial ? [o.dial] : [])]) {
    let ma
    try { ma = multiaddr(s) } catch (err) { usageError(`bad multiaddr "${s}": ${err.message}`) }
    if (usesDns(ma)) usageError(`DNS multiaddrs are not allowed here: "${s}"`)
  }
  return o
}

/** --expect-vN applies to the --probe-vN just before it. */
function expectFor (probes, flag) {
  if (probes.length === 0) usageError(`${flag} must follow the --probe-v${flag.slice(-1)} it applies to`)
  return probes[probes.length - 1]
}

function usesDns (ma) {
  return ma.getComponents().some(c => c.name.startsWith('dns'))
}

// ---------------------------------------------------------------------------
// Keys

async function loadOrMakeKey (o) {
  if (o.keyFile != null) {
    let raw = readFileSync(o.keyFile)
    // Accept kubo-style base64 text as well as raw protobuf bytes.
    const text = raw.toString('latin1').trim()
    if (/^[A-Za-z0-9+/=\s]+$/.test(text)) raw = Buffer.from(text, 'base64')
    return privateKeyFromProtobuf(raw)
  }
  switch (o.key) {
    case 'rsa': return generateKeyPair('RSA', 2048)
    case 'secp256k1': return generateKeyPair('secp256k1')
    default: return generateKeyPair('Ed25519')
  }
}

// ---------------------------------------------------------------------------
// Minimal protobuf encoding, enough for the AutoNAT probe messages.
// (The AutoNAT packages' own codecs are not exported.)

function varint (n) {
  n = BigInt(n)
  const out = []
  do {
    let b = Number(n & 0x7fn)
    n >>= 7n
    if (n > 0n) b |= 0x80
    out.push(b)
  } while (n > 0n)
  return Uint8Array.from(out)
}

function concat (parts) {
  return Uint8Array.from(Buffer.concat(parts.map(p => Buffer.from(p))))
}

const pb = {
  varintField: (field, v) => concat([varint(field << 3), varint(v)]),
  bytesField: (field, bytes) => concat([varint((field << 3) | 2), varint(bytes.length), bytes]),
  fixed64Field: (field, v) => {
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(BigInt.asUintN(64, v))
    return concat([varint((field << 3) | 1), b])
  },
  /** Decode one message into { fieldNumber: [values] } (bytes as Uint8Array, numbers as BigInt). */
  decode (buf) {
    const fields = {}
    let i = 0
    const readVarint = () => {
      let v = 0n
      let shift = 0n
      for (;;) {
        if (i >= buf.length) throw new Error('truncated varint')
        const b = buf[i++]
        v |= BigInt(b & 0x7f) << shift
        if ((b & 0x80) === 0) return v
        shift += 7n
        if (shift > 63n) throw new Error('varint too long')
      }
    }
    while (i < buf.length) {
      const key = readVarint()
      const field = Number(key >> 3n)
      const wt = Number(key & 7n)
      let v
      if (wt === 0) v = readVarint()
      else if (wt === 1) { v = Buffer.from(buf.subarray(i, i + 8)).readBigUInt64LE(); i += 8 } else if (wt === 2) {
        const len = Number(readVarint())
        if (i + len > buf.length) throw new Error('truncated field')
        v = buf.subarray(i, i + len); i += len
      } else if (wt === 5) { v = Buffer.from(buf.subarray(i, i + 4)).readUInt32LE(); i += 4 } else throw new Error(`unsupported wire type ${wt}`)
      ;(fields[field] ??= []).push(v)
    }
    return fields
  }
}

const V1_STATUS = { 0: 'OK', 100: 'E_DIAL_ERROR', 101: 'E_DIAL_REFUSED', 200: 'E_BAD_REQUEST', 300: 'E_INTERNAL_ERROR' }
const V2_STATUS = { 0: 'E_INTERNAL_ERROR', 100: 'E_REQUEST_REJECTED', 101: 'E_DIAL_REFUSED', 200: 'OK' }
const V2_DIAL_STATUS = { 0: 'UNUSED', 100: 'E_DIAL_ERROR', 101: 'E_DIAL_BACK_ERROR', 200: 'OK' }

// ---------------------------------------------------------------------------
// Small helpers

function withTimeout (promise, ms, what) {
  let t
  const timeout = new Promise((_resolve, reject) => {
    t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t))
}

/** Errors from js-libp2p are sometimes bare Events (e.g. a stream 'close'). */
function errMessage (err) {
  if (err == null) return 'unknown error'
  if (typeof err.message === 'string' && err.message !== '') return err.message
  if (typeof Event !== 'undefined' && err instanceof Event) {
    return `event "${err.type}"${err.error?.message != null ? ': ' + err.error.message : ''}`
  }
  return String(err)
}

function connInfo (conn) {
  return {
    peer: conn.remotePeer.toString(),
    remoteAddr: conn.remoteAddr.toString(),
    direction: conn.direction,
    id: conn.id,
    encryption: conn.encryption,
    muxer: conn.multiplexer
  }
}

/** Send all of `data` on a libp2p 3.x stream, honouring back-pressure. */
async function sendAll (stream, data, signal) {
  const CHUNK = 16384
  for (let off = 0; off < data.length; off += CHUNK) {
    if (!stream.send(data.subarray(off, Math.min(off + CHUNK, data.length)))) {
      await stream.onDrain({ signal })
    }
  }
}

/** Read a stream to its end; returns the bytes. */
async function readAll (stream) {
  const parts = []
  for await (const chunk of stream) parts.push(chunk.subarray())
  return Buffer.concat(parts)
}

// ---------------------------------------------------------------------------
// Echo protocol: echo every byte, close our side when the remote closes its.

async function handleEcho (stream, connection) {
  let bytes = 0
  try {
    for await (const chunk of stream) {
      bytes += chunk.byteLength
      if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(30000) })
    }
    await stream.close()
    emit({ event: 'echo-served', peer: connection.remotePeer.toString(), bytes })
  } catch (err) {
    emit({ event: 'error', stage: 'echo-served', peer: connection.remotePeer.toString(), bytes, message: errMessage(err) })
    stream.abort(err)
  }
}

async function echoOnce (conn, index, size, signal) {
  const started = Date.now()
  const stream = await conn.newStream(ECHO_PROTOCOL, { signal })
  const payload = randomBytes(size)
  // Start reading before writing so nothing is buffered without a reader.
  const reading = readAll(stream)
  await sendAll(stream, payload, signal)
  await stream.close({ signal }) // half-close: tells the echo server we are done
  const got = await reading
  if (!payload.equals(got)) {
    throw new Error(`echo stream ${index}: sent ${size} bytes, got ${got.length} bytes${got.length === size ? ' (content differs)' : ''}`)
  }
  return Date.now() - started
}

// ---------------------------------------------------------------------------
// AutoNAT probes (we act as the client; the dialed peer is the server)

async function probeV1 (node, conn, addrStr, signal) {
  const ma = multiaddr(addrStr)
  const peerInfo = concat([
    pb.bytesField(1, node.peerId.toMultihash().bytes),
    pb.bytesField(2, ma.bytes)
  ])
  // proto2: write type = DIAL (0) explicitly.
  const msg = concat([pb.varintField(1, 0), pb.bytesField(2, pb.bytesField(1, peerInfo))])
  const stream = await conn.newStream(AUTONAT_V1_PROTOCOL, { signal })
  const lp = lpStream(stream, { maxDataLength: 8192 })
  await lp.write(msg, { signal })
  let res
  try {
    res = pb.decode((await lp.read({ signal })).subarray())
  } catch (err) {
    stream.abort(err)
    return { event: 'autonat-v1', addr: addrStr, status: 'NO_RESPONSE', message: errMessage(err) }
  }
  await stream.close({ signal }).catch(() => {})
  const dr = res[3]?.[0] != null ? pb.decode(res[3][0]) : {}
  const code = Number(dr[1]?.[0] ?? 0n)
  const out = { event: 'autonat-v1', addr: addrStr, status: V1_STATUS[code] ?? `UNKNOWN_${code}`, statusCode: code }
  if (dr[2] != null) out.statusText = Buffer.from(dr[2][0]).toString('utf8')
  if (dr[3] != null) {
    try { out.dialedAddr = multiaddr(dr[3][0]).toString() } catch { out.dialedAddr = Buffer.from(dr[3][0]).toString('hex') }
  }
  return out
}

// Nonces we handed out in v2 requests -> whether a dial-back delivered them.
const pendingNonces = new Map()

async function handleDialBack (stream, connection) {
  try {
    const lp = lpStream(stream, { maxDataLength: 1024 })
    const msg = pb.decode((await lp.read({ signal: AbortSignal.timeout(10000) })).subarray())
    const nonce = msg[1]?.[0] ?? 0n
    const known = pendingNonces.has(nonce)
    emit({ event: 'dial-back', peer: connection.remotePeer.toString(), remoteAddr: connection.remoteAddr.toString(), nonce: nonce.toString(), known })
    if (!known) { stream.abort(new Error('unknown nonce')); return }
    pendingNonces.get(nonce).received = true
    await lp.write(new Uint8Array(0)) // DialBackResponse{status = OK}: all defaults, empty message
    await stream.close()
  } catch (err) {
    emit({ event: 'error', stage: 'dial-back', message: errMessage(err) })
    stream.abort(err)
  }
}

async function probeV2 (conn, addrStr, signal) {
  const ma = multiaddr(addrStr)
  const nonce = randomBytes(8).readBigUInt64LE()
  const out = { event: 'autonat-v2', addr: addrStr, nonce: nonce.toString() }
  // One address per request: js's server answers once per address it is sent.
  const req = concat([pb.bytesField(1, ma.bytes), pb.fixed64Field(2, nonce)])
  const stream = await conn.newStream(AUTONAT_V2_DIAL_REQUEST, { signal })
  pendingNonces.set(nonce, { received: false })
  const lp = lpStream(stream, { maxDataLength: 8192 })
  await lp.write(pb.bytesField(1, req), { signal })
  let dialData = 0
  try {
    for (;;) {
      const msg = pb.decode((await lp.read({ signal })).subarray())
      if (msg[3] != null) { // DialDataRequest{addrIdx, numBytes}
        const ddr = pb.decode(msg[3][0])
        const want = Number(ddr[2]?.[0] ?? 0n)
        if (want > 200 * 1024) throw new Error(`server asked for ${want} bytes of dial data`)
        const chunk = new Uint8Array(4096)
        while (dialData < want) {
          const n = Math.min(chunk.length, want - dialData)
          await lp.write(pb.bytesField(4, pb.bytesField(1, chunk.subarray(0, Math.max(n, 100)))), { signal })
          dialData += Math.max(n, 100)
        }
        continue
      }
      if (msg[2] != null) { // DialResponse{status, addrIdx, dialStatus}
        const dr = pb.decode(msg[2][0])
        const status = Number(dr[1]?.[0] ?? 0n)
        const dialStatus = Number(dr[3]?.[0] ?? 0n)
        Object.assign(out, {
          status: V2_STATUS[status] ?? `UNKNOWN_${status}`,
          addrIdx: Number(dr[2]?.[0] ?? 0n),
          dialStatus: V2_DIAL_STATUS[dialStatus] ?? `UNKNOWN_${dialStatus}`
        })
        break
      }
      throw new Error('unexpected message on dial-request stream')
    }
  } catch (err) {
    // js's server answers nothing for an address with a private IP: it just
    // closes the stream. Report that as NO_RESPONSE.
    out.status = 'NO_RESPONSE'
    out.message = errMessage(err)
  }
  await stream.close({ signal }).catch(() => stream.abort(new Error('close failed')))
  out.dialDataBytes = dialData
  out.nonceReceived = pendingNonces.get(nonce).received
  pendingNonces.delete(nonce)
  return out
}

function v2Outcome (r) {
  if (r.status !== 'OK') return r.status
  if (r.dialStatus === 'OK' && !r.nonceReceived) return 'OK_WITHOUT_NONCE'
  return r.dialStatus
}

// ---------------------------------------------------------------------------
// Main

async function main () {
  const o = parseArgs(process.argv.slice(2))
  const privateKey = await loadOrMakeKey(o)
  if (o.saveKey != null) writeFileSync(o.saveKey, privateKeyToProtobuf(privateKey), { mode: 0o600 })

  const services = {
    identify: identify({ timeout: 10000 }),
    // One more outbound ping stream than js's default of 1, so that our own
    // --pings cannot collide with the connection monitor's periodic ping.
    ping: ping({ maxOutboundStreams: 2 })
  }
  if (o.autonatV1) services.autonat = autoNAT()
  if (o.autonatV2) services.autonatV2 = autoNATv2()

  const node = await createLibp2p({
    privateKey,
    nodeInfo: { userAgent: o.agent },
    addresses: { listen: o.listen, announce: o.announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // No peerDiscovery / peerRouters / contentRouters: nothing that would find
    // or dial peers on its own (no bootstrap, mDNS, DHT, relay, UPnP).
    peerDiscovery: [],
    services,
    connectionManager: {
      maxConnections: o.maxConnections,
      // Tests open many connections from one host in a burst; the defaults
      // (5 per second per host, 10 pending) would refuse some of them.
      inboundConnectionThreshold: 10000,
      maxIncomingPendingConnections: 1000,
      maxParallelDials: 100,
      // No resolvers: /dnsaddr would otherwise be resolved over DNS.
      resolvers: {}
    },
    connectionMonitor: { enabled: o.monitor },
    connectionGater: {
      // Belt and braces: never dial anything that needs a DNS lookup.
      denyDialMultiaddr: async (ma) => usesDns(ma)
    },
    // js-libp2p 3.x would start immediately; we attach listeners first.
    start: false
  })

  node.addEventListener('connection:open', (e) => emit({ event: 'connection', ...connInfo(e.detail) }))
  // js-libp2p can fire connection:close twice for one connection (once when
  // the remote closes, again from node.stop()); report each connection once.
  const closed = new Set()
  node.addEventListener('connection:close', (e) => {
    if (closed.has(e.detail.id)) return
    closed.add(e.detail.id)
    emit({ event: 'disconnect', ...connInfo(e.detail) })
  })
  node.addEventListener('peer:identify', (e) => {
    const r = e.detail
    emit({
      event: 'identify',
      peer: r.peerId.toString(),
      protocols: r.protocols,
      agentVersion: r.agentVersion ?? null,
      protocolVersion: r.protocolVersion ?? null,
      observedAddr: r.observedAddr?.toString() ?? null,
      listenAddrs: r.listenAddrs.map(a => a.toString()),
      connection: r.connection?.id ?? null
    })
  })

  if (o.echo) {
    await node.handle(ECHO_PROTOCOL, handleEcho, { maxInboundStreams: 1024, maxOutboundStreams: 1024 })
  }

  // Register our own AutoNAT v2 dial-back handler when probing; this replaces
  // the one @libp2p/autonat-v2's client part registers (force: true).
  const needDialBack = o.probeV2.length > 0

  await node.start()
  if (needDialBack) await node.handle(AUTONAT_V2_DIAL_BACK, handleDialBack, { force: true })
  if (o.autoConfirm) confirmListenAddrs(node)

  // ---- shutdown plumbing
  let stopping = false
  const shutdown = async (code, reason) => {
    if (stopping) return
    stopping = true
    if (reason != null) emit({ event: 'stopped', reason })
    try { await withTimeout(node.stop(), 5000, 'node.stop') } catch (err) { process.stderr.write(`peer.mjs: ${err.message}\n`) }
    await flushStdout()
    process.exit(code)
  }
  let finishedOk = o.dial == null // listen mode: a signal is the normal way to end
  process.on('SIGTERM', () => shutdown(finishedOk ? 0 : 1, 'SIGTERM'))
  process.on('SIGINT', () => shutdown(finishedOk ? 0 : 1, 'SIGINT'))
  if (o.stdinWatch && stdinIsWatchable()) {
    process.stdin.on('end', () => shutdown(finishedOk ? 0 : 1, 'stdin-eof'))
    process.stdin.on('error', () => shutdown(finishedOk ? 0 : 1, 'stdin-error'))
    process.stdin.resume()
  }

  emit({
    event: 'ready',
    peerId: node.peerId.toString(),
    keyType: privateKey.type,
    addrs: node.getMultiaddrs().map(a => a.toString()),
    protocols: node.getProtocols()
  })

  if (o.dial == null) return // serve until told to stop

  // ---- dial mode
  const ok = await runDial(node, o).catch(err => {
    emit({ event: 'error', stage: 'internal', message: errMessage(err) })
    return false
  })
  finishedOk = ok
  emit({ event: 'done', ok })
  if (o.hold && !stopping) return
  await shutdown(ok ? 0 : 1)
}

// js-libp2p 3.x keeps public-looking listen addresses out of getMultiaddrs()
// and out of identify's listenAddrs until AutoNAT has verified them (private
// and loopback ones are shown at once). A test peer in a network namespace with
// public-looking addresses would then announce nothing, so mark our own
// listen addresses verified, with a long TTL so that an AutoNAT client does not
// try to re-verify them during a test. --no-auto-confirm keeps js's behaviour.
function confirmListenAddrs (node) {
  const shown = new Set(node.getMultiaddrs().map(a => a.decapsulateCode(CODE_P2P).toString()))
  for (const addr of node.components.transportManager.getAddrs()) {
    if (shown.has(addr.toString())) continue
    node.components.addressManager.confirmObservedAddr(addr, { type: 'transport', ttl: 365 * 24 * 3600 * 1000 })
  }
}

function stdinIsWatchable () {
  // Only a pipe, socket or terminal can signal "parent went away" by EOF;
  // /dev/null or a file would end at once and stop us immediately.
  try {
    const st = fstatSync(0)
    return st.isFIFO() || st.isSocket() || process.stdin.isTTY === true
  } catch {
    return false
  }
}

async function runDial (node, o) {
  const deadline = AbortSignal.timeout(o.timeout)
  const target = multiaddr(o.dial)
  let ok = true
  const fail = (stage, err) => {
    ok = false
    emit({ event: 'error', stage, message: errMessage(err) })
  }

  // Identify may finish before node.dial() returns, so collect every result
  // by connection id and look ours up afterwards.
  const identifies = new Map()
  let wakeIdentify = () => {}
  const onIdentify = (e) => {
    if (e.detail.connection != null) identifies.set(e.detail.connection.id, e.detail)
    wakeIdentify()
  }
  node.addEventListener('peer:identify', onIdentify)

  let conn
  try {
    conn = await node.dial(target, { signal: deadline })
  } catch (err) {
    fail('dial', err)
    return false
  }

  const identified = new Promise(resolve => {
    wakeIdentify = () => { if (identifies.has(conn.id)) resolve(identifies.get(conn.id)) }
    wakeIdentify()
  })

  let idResult = null
  try {
    idResult = await withTimeout(identified, Math.min(15000, o.timeout), 'identify')
  } catch (err) {
    fail('identify', err)
  }
  node.removeEventListener('peer:identify', onIdentify)

  // An AutoNAT server may close the connection a request came on (js's v1
  // server does, see README), and js-libp2p may still report such a
  // connection as open for a moment. Run each probe on the current connection
  // and, if it throws, once more on a fresh one.
  const onLiveConn = async (fn) => {
    try {
      return await fn(conn)
    } catch (err) {
      emit({ event: 'redial', reason: errMessage(err) })
      conn = await node.dial(target, { signal: deadline, force: true })
      return await fn(conn)
    }
  }
  // "observed" stands for the address the peer reported seeing us at.
  const probeAddr = (s) => {
    if (s !== 'observed') return s
    if (idResult?.observedAddr == null) throw new Error('no observed address from identify')
    return idResult.observedAddr.decapsulateCode(CODE_P2P).toString()
  }

  for (let seq = 0; seq < o.pings; seq++) {
    try {
      const ms = await node.services.ping.ping(conn.remotePeer, { signal: deadline })
      emit({ event: 'ping', peer: conn.remotePeer.toString(), seq, ms })
    } catch (err) {
      fail('ping', err)
      break
    }
  }

  if (o.streams > 0) {
    const results = await Promise.allSettled(
      Array.from({ length: o.streams }, (_, i) => echoOnce(conn, i, o.echoBytes, deadline))
    )
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') emit({ event: 'echo', peer: conn.remotePeer.toString(), stream: i, bytes: o.echoBytes, ms: r.value })
      else fail('echo', r.reason)
    })
  }

  for (const { addr, expect } of o.probeV1) {
    try {
      const r = await onLiveConn(c => probeV1(node, c, probeAddr(addr), deadline))
      emit(r)
      if (expect != null && r.status !== expect) fail('autonat-v1', new Error(`${r.addr}: expected ${expect}, got ${r.status}`))
    } catch (err) {
      fail('autonat-v1', err)
    }
  }

  for (const { addr, expect } of o.probeV2) {
    try {
      const r = await onLiveConn(c => probeV2(c, probeAddr(addr), deadline))
      r.outcome = v2Outcome(r)
      emit(r)
      if (expect != null && r.outcome !== expect) fail('autonat-v2', new Error(`${r.addr}: expected ${expect}, got ${r.outcome}`))
    } catch (err) {
      fail('autonat-v2', err)
    }
  }

  return ok
}

main().catch(async (err) => {
  emit({ event: 'error', stage: 'startup', message: errMessage(err) })
  emit({ event: 'done', ok: false })
  await flushStdout()
  process.exit(1)
})

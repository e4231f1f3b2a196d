#!/usr/bin/env node
/*
 * Test-only Wechaty puppet-service gateway for chamberbot.
 *
 * Runs the real TypeScript gateway (wechaty-puppet-service PuppetServer)
 * in front of a mock WeChat (wechaty-puppet-mock PuppetMock), on loopback,
 * with TLS off, and offers a small HTTP+JSON control channel so tests can
 * create contacts/rooms, make contacts speak, and read what the bot sent.
 *
 * Usage:
 *   node gateway.mjs [--grpc-port N] [--control-port N] [--token T]
 *                    [--bot-id ID] [--bot-name NAME] [--no-echo]
 *                    [--log-level silent|error|warn|info|verbose|silly]
 *   (env fallbacks: GATEWAY_GRPC_PORT, GATEWAY_CONTROL_PORT,
 *    WECHATY_PUPPET_SERVICE_TOKEN, GATEWAY_BOT_ID, GATEWAY_BOT_NAME,
 *    GATEWAY_LOG_LEVEL)
 * Port 0 (the default) means "pick a free loopback port".
 *
 * When ready, prints exactly one JSON line on stdout:
 *   {"grpc_port":..,"control_port":..,"endpoint":"127.0.0.1:..","token":"..","bot_id":"..","bot_name":".."}
 * All logging goes to stderr.
 *
 * Control channel (http://127.0.0.1:<control_port>, JSON bodies and answers):
 *   GET  /health                      -> {ok, logged_in, bot_id}
 *   GET  /stats                       -> {puppet_start_calls, puppet_stop_calls, logins, ..., sent, last_received}
 *                    (received: when a send arrived, seconds on CLOCK_MONOTONIC, as Python time.monotonic)
 *   POST /contacts   {id, name}       -> {id}
 *   POST /rooms      {id, topic, member_ids[]}  (id should end "@chatroom"; bot is added as member)
 *   POST /say        {from, text, room?|to?, mention_ids?[]}  -> {message_id}
 *                    (room: group message; to: private message, default the bot)
 *   POST /redeliver  {message_id}     -> re-emits the same message id (duplicate delivery)
 *   POST /room-topic {room, topic, by?}       -> room-topic event (+ dirty)
 *   POST /room-add   {room, contact, by?}     -> room-join event
 *   POST /room-remove {room, contact, by?}    -> room-leave event
 *   GET  /sent                        -> {sent: [{message_id, conversation_id, text, mention_ids, time, received}]}
 *   POST /sent/clear                  -> {cleared: n}
 *   POST /fail       {conversation_id, message?, code?}  -> later sends there raise (gRPC error)
 *   POST /unfail     {conversation_id}
 *   POST /hold       {conversation_id}  -> later sends there get no answer until /release
 *   POST /release    {conversation_id}  -> held sends are delivered (and echoed) now
 *   POST /logout     {reason?}        -> bot logs out (logout event)
 *   POST /login                       -> bot logs in again (login + ready events)
 *   POST /reset                       -> a clean slate for the next bot: nothing sent, nothing
 *                                        failing or held (held sends are released), /stats
 *                                        counters at zero, logged in (contacts and rooms stay
 *                                        as they are)
 *   POST /shutdown                    -> stops servers and exits 0
 */

import net from 'node:net'
import http from 'node:http'
import process from 'node:process'
import { randomUUID } from 'node:crypto'

// Keep stdout for the single ready line: route all library logging to stderr.
const toStderr = (...args) => console.error(...args)
console.log = toStderr
console.info = toStderr
console.warn = toStderr
console.debug = toStderr

const PUPPET = await import('wechaty-puppet')
const { PuppetMock, mock } = await import('wechaty-puppet-mock')
const { PuppetServer } = await import('wechaty-puppet-service')

/* ---------------------------------------------------------------- options */

function parseArgs (argv) {
  const opts = {
    grpcPort    : Number(process.env.GATEWAY_GRPC_PORT || 0),
    controlPort : Number(process.env.GATEWAY_CONTROL_PORT || 0),
    token       : process.env.WECHATY_PUPPET_SERVICE_TOKEN || 'chamberbot-test-token',
    botId       : process.env.GATEWAY_BOT_ID || 'wxid_chamberbot',
    botName     : process.env.GATEWAY_BOT_NAME || 'ChamberBot',
    echo        : true,
    logLevel    : process.env.GATEWAY_LOG_LEVEL || 'warn',
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`missing value for ${a}`)
      return v
    }
    switch (a) {
      case '--grpc-port':    opts.grpcPort = Number(next()); break
      case '--control-port': opts.controlPort = Number(next()); break
      case '--token':        opts.token = next(); break
      case '--bot-id':       opts.botId = next(); break
      case '--bot-name':     opts.botName = next(); break
      case '--no-echo':      opts.echo = false; break
      case '--log-level':    opts.logLevel = next(); break
      default: throw new Error(`unknown argument ${a}`)
    }
  }
  return opts
}

const opts = parseArgs(process.argv.slice(2))
PUPPET.log.level(opts.logLevel)

async function freeLoopbackPort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/* ---------------------------------------------------------------- state */

const mocker = new mock.Mocker()
const puppet = new PuppetMock({ mocker })

const sent = []                 // what the bot sent, in order
let generation = 0              // bumped by /reset: a send held across it is dropped
const failing = new Map()       // conversation_id -> {message, code}
const holding = new Map()       // conversation_id -> [resolve, ...] of held sends
const stats = {
  puppet_start_calls : 0,
  puppet_stop_calls  : 0,
  logins             : 0,
  logouts            : 0,
  send_calls         : 0,
  failed_sends       : 0,
  held_sends         : 0,
}

const bot = mocker.createContact({ id: opts.botId, name: opts.botName })

function doLogin () {
  if (puppet.isLoggedIn) return
  mocker.login(bot)
  stats.logins++
  // PuppetMock never emits `ready` by itself; a real puppet does after sync.
  setImmediate(() => puppet.emit('ready', { data: 'ready' }))
}

/*
 * An "environment" runs every time the mocker starts, i.e. at every
 * puppet.start(). A gateway in front of a real account re-logs in by itself
 * after a Stop/Start (cached session), so we do the same here.
 */
mocker.use(() => {
  doLogin()
  return () => {}
})

// Count Start/Stop (the python client calls both at connect).
const origStart = puppet.start.bind(puppet)
const origStop = puppet.stop.bind(puppet)
puppet.start = async () => { stats.puppet_start_calls++; return origStart() }
puppet.stop = async () => {
  stats.puppet_stop_calls++
  await origStop()
  // wechaty-puppet's stop() emits `logout` but keeps the user id; clear it
  // (without a second `logout` event) so the next start() can log in again.
  puppet.__currentUserId = undefined
}
puppet.on('logout', () => { stats.logouts++ })

/*
 * Capture what the bot sends. Replaces the mock's messageSendText so we
 * keep the mention ids, can fail on demand, and return a real message id.
 * Like real WeChat, the bot's own message comes back as a `message` event
 * (talkerId = bot) unless --no-echo.
 */
puppet.messageSendText = async (conversationId, text, mentionIdList) => {
  stats.send_calls++
  if (holding.has(conversationId)) {
    stats.held_sends++
    const held = generation
    await new Promise(resolve => holding.get(conversationId).push(resolve))
    if (held !== generation) throw new Error('dropped by /reset')
  }
  const mentionIds = Array.isArray(mentionIdList) ? [...mentionIdList] : []
  const failure = failing.get(conversationId)
  if (failure) {
    stats.failed_sends++
    const err = new Error(failure.message)
    if (failure.code !== undefined) err.code = failure.code
    throw err
  }
  if (!puppet.isLoggedIn) throw new Error('not logged in')
  const isRoom = conversationId.endsWith('@chatroom')
  if (isRoom) {
    if (!mocker.cacheRoomPayload.has(conversationId)) throw new Error(`room not found: ${conversationId}`)
  } else if (!mocker.cacheContactPayload.has(conversationId)) {
    throw new Error(`contact not found: ${conversationId}`)
  }
  const id = 'sent-' + randomUUID()
  // received: this machine's monotonic clock in seconds (CLOCK_MONOTONIC, as Python's
  // time.monotonic), so a benchmark times the reply to the moment it arrived here
  const received = Number(process.hrtime.bigint()) / 1e9
  sent.push({ message_id: id, conversation_id: conversationId, text, mention_ids: mentionIds, time: Date.now(), received })
  const payload = {
    id,
    talkerId  : puppet.currentUserId,
    timestamp : Date.now(),
    type      : PUPPET.types.Message.Text,
    text,
    ...(isRoom
      ? { roomId: conversationId, mentionIdList: mentionIds }
      : { listenerId: conversationId }),
  }
  mocker.MessageMock.create(payload)
  if (opts.echo) puppet.emit('message', { messageId: id })
  return id
}

/* ---------------------------------------------------------------- control */

const contact = (id) => {
  if (!mocker.cacheContactPayload.has(id)) throw httpError(404, `no contact ${id}`)
  return mocker.ContactMock.load(id)
}
const room = (id) => {
  if (!mocker.cacheRoomPayload.has(id)) throw httpError(404, `no room ${id}`)
  return mocker.RoomMock.load(id)
}
function httpError (status, message) {
  return Object.assign(new Error(message), { status })
}
const need = (body, ...keys) => {
  for (const k of keys) {
    if (body[k] === undefined || body[k] === null || body[k] === '') throw httpError(400, `missing ${k}`)
  }
}

const dirty = (type, id) => puppet.dirtyPayload(type, id)

const routes = {
  'GET /health': () => ({ ok: true, logged_in: puppet.isLoggedIn, bot_id: bot.id }),
  'GET /stats': () => ({
    ...stats, logged_in: puppet.isLoggedIn, sent: sent.length,
    last_received: sent.length ? sent[sent.length - 1].received : null,
  }),

  'POST /contacts': (b) => {
    need(b, 'id')
    if (mocker.cacheContactPayload.has(b.id)) throw httpError(409, `contact ${b.id} exists`)
    mocker.createContact({ id: b.id, name: b.name ?? b.id, alias: b.alias ?? '' })
    return { id: b.id }
  },

  'POST /rooms': (b) => {
    need(b, 'id')
    if (mocker.cacheRoomPayload.has(b.id)) throw httpError(409, `room ${b.id} exists`)
    const members = [...(b.member_ids ?? [])]
    for (const m of members) contact(m)
    if (b.include_bot !== false && !members.includes(bot.id)) members.push(bot.id)
    mocker.createRoom({
      id           : b.id,
      topic        : b.topic ?? '',
      memberIdList : members,
      ownerId      : b.owner_id ?? members[0],
      adminIdList  : b.admin_ids ?? [],
    })
    return { id: b.id, member_ids: members }
  },

  'POST /say': (b) => {
    need(b, 'from', 'text')
    const speaker = contact(b.from)
    const mentions = (b.mention_ids ?? []).map(contact)
    const target = b.room ? room(b.room) : contact(b.to ?? bot.id)
    // ContactMock.say().to() creates the message and emits `message`;
    // find the id it generated (newest message from this talker).
    const before = new Set(mocker.cacheMessagePayload.keys())
    speaker.say(String(b.text), mentions).to(target)
    const created = [...mocker.cacheMessagePayload.keys()].filter(k => !before.has(k))
    return { message_id: created[created.length - 1] }
  },

  'POST /redeliver': (b) => {
    need(b, 'message_id')
    if (!mocker.cacheMessagePayload.has(b.message_id)) throw httpError(404, `no message ${b.message_id}`)
    puppet.emit('message', { messageId: b.message_id })
    return { message_id: b.message_id }
  },

  'POST /room-topic': (b) => {
    need(b, 'room', 'topic')
    const r = room(b.room)
    const old = r.payload.topic
    r.topic(String(b.topic)).by(contact(b.by ?? r.payload.memberIdList.find(id => id !== bot.id) ?? bot.id))
    dirty(PUPPET.types.Dirty.Room, r.id)
    return { room: r.id, old_topic: old, topic: r.payload.topic }
  },

  'POST /room-add': (b) => {
    need(b, 'room', 'contact')
    const r = room(b.room)
    r.add(contact(b.contact)).by(contact(b.by ?? r.payload.ownerId ?? bot.id))
    dirty(PUPPET.types.Dirty.Room, r.id)
    return { room: r.id, member_ids: [...r.payload.memberIdList] }
  },

  'POST /room-remove': (b) => {
    need(b, 'room', 'contact')
    const r = room(b.room)
    r.remove(contact(b.contact)).by(contact(b.by ?? r.payload.ownerId ?? bot.id))
    dirty(PUPPET.types.Dirty.Room, r.id)
    return { room: r.id, member_ids: [...r.payload.memberIdList] }
  },

  'GET /sent': () => ({ sent }),
  'POST /sent/clear': () => {
    const n = sent.length
    sent.length = 0
    return { cleared: n }
  },

  'POST /fail': (b) => {
    need(b, 'conversation_id')
    failing.set(b.conversation_id, {
      message : b.message ?? `bot is not a member of ${b.conversation_id}`,
      code    : b.code,
    })
    return { failing: [...failing.keys()] }
  },
  'POST /unfail': (b) => {
    need(b, 'conversation_id')
    failing.delete(b.conversation_id)
    return { failing: [...failing.keys()] }
  },

  'POST /hold': (b) => {
    need(b, 'conversation_id')
    if (!holding.has(b.conversation_id)) holding.set(b.conversation_id, [])
    return { holding: [...holding.keys()] }
  },
  'POST /release': (b) => {
    need(b, 'conversation_id')
    const held = holding.get(b.conversation_id) ?? []
    holding.delete(b.conversation_id)
    for (const resolve of held) resolve()
    return { released: held.length }
  },

  'POST /logout': async (b) => {
    await puppet.logout(b.reason ?? 'logout by control channel')
    return { logged_in: puppet.isLoggedIn }
  },
  'POST /login': () => {
    doLogin()
    return { logged_in: puppet.isLoggedIn }
  },

  'POST /reset': () => {
    generation++
    for (const held of holding.values()) for (const resolve of held) resolve()
    holding.clear()
    failing.clear()
    sent.length = 0
    for (const key of Object.keys(stats)) stats[key] = 0
    doLogin()
    return { logged_in: puppet.isLoggedIn }
  },

  'POST /shutdown': () => {
    setTimeout(() => shutdown(0), 20)
    return { ok: true }
  },
}

async function readJson (req) {
  const chunks = []
  for await (const c of req) chunks.push(c)
  if (chunks.length === 0) return {}
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (!text) return {}
  try {
    return JSON.parse(text)
  } catch {
    throw httpError(400, 'body is not JSON')
  }
}

const control = http.createServer(async (req, res) => {
  let status = 200
  let answer
  try {
    const path = new URL(req.url, 'http://x').pathname
    const handler = routes[`${req.method} ${path}`]
    if (!handler) throw httpError(404, `no route ${req.method} ${path}`)
    const body = req.method === 'POST' ? await readJson(req) : {}
    answer = await handler(body)
  } catch (e) {
    status = e.status ?? 500
    answer = { error: e.message }
  }
  const text = JSON.stringify(answer)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
})

/* ---------------------------------------------------------------- start */

let server
let stopping = false
async function shutdown (code) {
  if (stopping) return
  stopping = true
  const hardExit = setTimeout(() => process.exit(code), 3000)
  hardExit.unref()
  try { control.close() } catch {}
  try { if (server) await server.stop() } catch (e) { console.error('server.stop:', e) }
  try { await puppet.stop() } catch {}
  process.exit(code)
}
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))

try {
  const grpcPort = opts.grpcPort || await freeLoopbackPort()
  server = new PuppetServer({
    endpoint : `127.0.0.1:${grpcPort}`,
    puppet,
    token    : opts.token,
    tls      : { disable: true },
  })
  await puppet.start()          // mocker environment logs the bot in
  await server.start()

  await new Promise((resolve, reject) => {
    control.once('error', reject)
    control.listen(opts.controlPort, '127.0.0.1', resolve)
  })
  const controlPort = control.address().port

  // wait (briefly) for the login done by the mocker environment
  for (let i = 0; i < 100 && !puppet.isLoggedIn; i++) {
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  if (!puppet.isLoggedIn) throw new Error('bot did not log in')

  process.stdout.write(JSON.stringify({
    grpc_port    : grpcPort,
    control_port : controlPort,
    endpoint     : `127.0.0.1:${grpcPort}`,
    token        : opts.token,
    bot_id       : bot.id,
    bot_name     : opts.botName,
  }) + '\n')
} catch (e) {
  console.error('gateway failed to start:', e)
  process.exit(1)
}

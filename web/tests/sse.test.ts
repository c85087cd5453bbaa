import { describe, expect, it } from 'vitest'
import { SseParser, readEventStream, type SseEvent } from '@/api/sse'

const enc = new TextEncoder()

function collect(chunks: (Uint8Array | string)[]): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = []
  const comments: string[] = []
  const p = new SseParser((e) => events.push(e), (c) => comments.push(c))
  for (const c of chunks) p.feed(c)
  p.end()
  return { events, comments }
}

/** Every way of cutting `bytes` into two pieces. */
function allSplits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = []
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.slice(0, i), bytes.slice(i)])
  return out
}

describe('SseParser', () => {
  it('parses named events with JSON data', () => {
    const { events } = collect([
      'event: meta\ndata: {"room_id":"1","question_id":"2","answer_id":"3","model":"m"}\n\n',
      'event: delta\ndata: {"content":"Hel"}\n\nevent: delta\ndata: {"content":"lo"}\n\n',
      'event: done\ndata: {"remaining_times":4}\n\n',
    ])
    expect(events.map((e) => e.event)).toEqual(['meta', 'delta', 'delta', 'done'])
    expect(JSON.parse(events[1]!.data)).toEqual({ content: 'Hel' })
    expect(JSON.parse(events[3]!.data)).toEqual({ remaining_times: 4 })
  })

  it('yields the same events however a frame is split across chunks', () => {
    const bytes = enc.encode('event: delta\ndata: {"content":"abc"}\n\nevent: done\ndata: {}\n\n')
    for (const chunks of allSplits(bytes)) {
      const { events } = collect(chunks)
      expect(events).toEqual([
        { event: 'delta', data: '{"content":"abc"}', id: undefined },
        { event: 'done', data: '{}', id: undefined },
      ])
    }
  })

  it('keeps multi-byte UTF-8 characters whole when their bytes are split', () => {
    const text = '你好，世界 🌏 héllo'
    const bytes = enc.encode(`event: delta\ndata: {"content":"${text}"}\n\n`)
    for (const chunks of allSplits(bytes)) {
      const { events } = collect(chunks)
      expect(events).toHaveLength(1)
      expect(JSON.parse(events[0]!.data).content).toBe(text)
    }
    // One byte at a time, too.
    const bytewise = Array.from(bytes, (b) => new Uint8Array([b]))
    expect(JSON.parse(collect(bytewise).events[0]!.data).content).toBe(text)
  })

  it('ignores keep-alive comment lines and reports them separately', () => {
    const { events, comments } = collect([': keep-alive\n\n', 'event: delta\ndata: {"content":"x"}\n', ':ping\n', '\n'])
    expect(events).toEqual([{ event: 'delta', data: '{"content":"x"}', id: undefined }])
    expect(comments).toEqual(['keep-alive', 'ping'])
  })

  it('delivers an error event', () => {
    const { events } = collect(['event: delta\ndata: {"content":"part"}\n\nevent: error\ndata: {"code":"upstream_unavailable","message":"gone"}\n\n'])
    expect(events[1]).toEqual({ event: 'error', data: '{"code":"upstream_unavailable","message":"gone"}', id: undefined })
  })

  it('accepts CRLF and CR line endings, including a CRLF split between chunks', () => {
    const crlf = 'event: delta\r\ndata: {"content":"a"}\r\n\r\nevent: done\r\ndata: {}\r\n\r\n'
    const expected = [
      { event: 'delta', data: '{"content":"a"}', id: undefined },
      { event: 'done', data: '{}', id: undefined },
    ]
    for (const chunks of allSplits(enc.encode(crlf))) expect(collect(chunks).events).toEqual(expected)
    expect(collect(['event: delta\rdata: {"content":"a"}\r\revent: done\rdata: {}\r\r']).events).toEqual(expected)
  })

  it('joins multi-line data, defaults the event name and drops a frame left unfinished at the end', () => {
    const { events } = collect(['data: line one\ndata: line two\nid: 7\n\n', 'event: delta\ndata: {"content":"cut"}\n'])
    expect(events).toEqual([{ event: 'message', data: 'line one\nline two', id: '7' }])
  })

  it('skips a frame with no data lines and strips only one leading space', () => {
    const { events } = collect(['event: meta\n\n', 'data:  two spaces\n\n', 'data:none\n\n'])
    expect(events.map((e) => e.data)).toEqual([' two spaces', 'none'])
  })

  it('ignores a leading byte-order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('data: x\n\n')])
    expect(collect([bytes]).events).toEqual([{ event: 'message', data: 'x', id: undefined }])
  })
})

describe('readEventStream', () => {
  it('reads a ReadableStream body to the end', async () => {
    const parts = ['event: delta\ndata: {"con', 'tent":"一', '二"}\n\n: keep-alive\n\nevent: done\ndata: {}\n\n']
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(enc.encode(p))
        c.close()
      },
    })
    const events: SseEvent[] = []
    await readEventStream(body, (e) => events.push(e))
    expect(events.map((e) => e.event)).toEqual(['delta', 'done'])
    expect(JSON.parse(events[0]!.data).content).toBe('一二')
  })
})

/**
 * A small Server-Sent Events frame parser (the WHATWG event-stream format), fed with raw
 * bytes as they arrive. Bytes are decoded with a streaming TextDecoder, so a multi-byte
 * character split across chunks is kept whole; lines may end in LF, CRLF or CR, and a CRLF
 * split across chunks counts once. Comment lines (keep-alives) never produce events.
 */

export interface SseEvent {
  /** `message` when the frame had no `event:` field. */
  event: string
  data: string
  id?: string
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8')
  private buffer = ''
  private lastWasCR = false
  private firstChunk = true
  private eventName = ''
  private dataLines: string[] = []
  private lastId: string | undefined
  private sawData = false

  constructor(
    private readonly onEvent: (e: SseEvent) => void,
    private readonly onComment?: (text: string) => void,
  ) {}

  /** Feed the next chunk of the body (bytes, or already-decoded text). */
  feed(chunk: Uint8Array | string): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true })
    if (this.firstChunk && text.length > 0) {
      this.firstChunk = false
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    this.consume(text)
  }

  /** The body ended: flush the decoder. A frame without its closing blank line is dropped, as the spec says. */
  end(): void {
    const rest = this.decoder.decode()
    if (rest) this.consume(rest)
    this.buffer = ''
    this.eventName = ''
    this.dataLines = []
    this.sawData = false
  }

  private consume(text: string): void {
    let start = 0
    if (this.lastWasCR && text.length > 0) {
      // The LF of a CRLF whose CR ended the previous chunk is not a second line break.
      this.lastWasCR = false
      if (text.charCodeAt(0) === 0x0a) start = 1
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c !== 0x0a && c !== 0x0d) continue
      this.line(this.buffer + text.slice(start, i))
      this.buffer = ''
      if (c === 0x0d) {
        if (i + 1 === text.length) this.lastWasCR = true
        else if (text.charCodeAt(i + 1) === 0x0a) i++
      }
      start = i + 1
    }
    if (start < text.length) this.buffer += text.slice(start)
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch()
      return
    }
    if (line.charCodeAt(0) === 0x3a /* : */) {
      this.onComment?.(line.slice(1).trimStart())
      return
    }
    const colon = line.indexOf(':')
    let field: string
    let value: string
    if (colon === -1) {
      field = line
      value = ''
    } else {
      field = line.slice(0, colon)
      value = line.slice(colon + 1)
      if (value.charCodeAt(0) === 0x20) value = value.slice(1)
    }
    switch (field) {
      case 'event':
        this.eventName = value
        break
      case 'data':
        this.dataLines.push(value)
        this.sawData = true
        break
      case 'id':
        if (!value.includes('\0')) this.lastId = value
        break
      default:
        // `retry` and unknown fields: nothing to do for a one-shot POST stream.
        break
    }
  }

  private dispatch(): void {
    if (this.sawData) {
      this.onEvent({ event: this.eventName || 'message', data: this.dataLines.join('\n'), id: this.lastId })
    }
    this.eventName = ''
    this.dataLines = []
    this.sawData = false
  }
}

/** Reads a whole event-stream body, calling onEvent per frame; resolves when the body ends. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (e: SseEvent) => void,
): Promise<void> {
  const parser = new SseParser(onEvent)
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (value) parser.feed(value)
    }
    parser.end()
  } finally {
    reader.releaseLock()
  }
}

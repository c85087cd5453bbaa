import { describe, expect, it } from 'vitest'
import { renderMarkdown } from '@/utils/markdown'

describe('renderMarkdown', () => {
  it('escapes raw HTML instead of rendering it', () => {
    const html = renderMarkdown('<img src=x onerror="alert(1)"><script>alert(2)</script>')
    expect(html).not.toContain('<img')
    expect(html).not.toContain('<script')
    expect(html).toContain('&lt;script&gt;')
  })

  it('refuses javascript: links', () => {
    const html = renderMarkdown('[x](javascript:alert(1))')
    expect(html).not.toContain('href="javascript:')
  })

  it('highlights known languages and escapes unknown ones', () => {
    expect(renderMarkdown('```rust\nfn main() {}\n```')).toContain('hljs-keyword')
    const unknown = renderMarkdown('```brainfuck\n<b>\n```')
    expect(unknown).toContain('&lt;b&gt;')
  })

  it('opens links in a new tab without the opener', () => {
    expect(renderMarkdown('[a](https://example.com)')).toContain('rel="noopener noreferrer"')
  })
})

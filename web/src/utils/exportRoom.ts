/** A conversation as a Markdown file: the messages oldest first, each under who said it. */
import type { ChatMessage } from '@/api/types'

export interface ExportLabels {
  you: string
  assistant: string
  /** A line under the title, e.g. "Exported from PayChat on 2026-01-02 10:00". */
  exportedAt: string
}

export function roomToMarkdown(title: string, messages: ChatMessage[], labels: ExportLabels): string {
  const parts = [`# ${title.trim() || 'PayChat'}`, `_${labels.exportedAt}_`]
  for (const m of messages) {
    if (m.role === 'user') parts.push(`## ${labels.you}`)
    else parts.push(`## ${labels.assistant}${m.model ? ` (${m.model})` : ''}`)
    parts.push(m.content.trim() || '…')
  }
  return `${parts.join('\n\n')}\n`
}

/** A file name from the title: letters and digits kept (any script), the rest joined by dashes, plus the date. */
export function exportFileName(title: string, at: Date = new Date()): string {
  const base = title
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
  const d = at.toISOString().slice(0, 10).replace(/-/g, '')
  return `${base || 'paychat'}-${d}.md`
}

/** Hands `text` to the browser as a download named `name`. */
export function downloadText(name: string, text: string, type = 'text/markdown;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

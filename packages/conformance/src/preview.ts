import { inspect } from 'node:util'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The bytes as text when they are valid UTF-8 with no control characters but tab and newline. */
function asText(value: Uint8Array): string | undefined {
  try {
    const text = strictUtf8.decode(value)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
    return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? undefined : text
  } catch {
    return undefined
  }
}

/**
 * A short description of a value for failure messages: bytes that are text show as text
 * (`Uint8Array(5) "hello"`), other bytes as hex, anything else through `util.inspect`.
 */
export function preview(value: unknown): string {
  if (value instanceof Uint8Array) {
    const text = asText(value)
    if (text !== undefined) {
      const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text
      return `Uint8Array(${value.byteLength}) ${JSON.stringify(shown)}`
    }
    const hex = Buffer.from(value.buffer, value.byteOffset, Math.min(value.byteLength, 32))
    return `Uint8Array(${value.byteLength}) ${hex.toString('hex')}${value.byteLength > 32 ? '…' : ''}`
  }
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return `${value.name}${code === undefined ? '' : ` [${String(code)}]`}: ${value.message}`
  }
  return inspect(value, { depth: 3, maxStringLength: 80 })
}

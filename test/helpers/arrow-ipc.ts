/** The messages of an Arrow IPC file or stream, for tests that build Arrow files by patching them. */
import { ByteBuffer } from 'flatbuffers';
import { Message } from 'apache-arrow/fb/message';

export type Form = 'file' | 'stream';

export interface Msg {
  /** Where the metadata starts in the file. */
  at: number;
  bb: ByteBuffer;
  msg: Message;
}

/**
 * The messages of a stream up to its first end-of-stream marker, or of a file's body (apache-arrow's
 * file writer puts the first at byte 8). A message's body starts at `at + bb.capacity()`.
 */
export function messages(b: Buffer, form: Form): Msg[] {
  const out: Msg[] = [];
  const end = form === 'file' ? b.length - 10 - b.readInt32LE(b.length - 10) : b.length;
  for (let pos = form === 'file' ? 8 : 0; pos + 8 <= end;) {
    let len = b.readInt32LE(pos);
    let at = pos + 4;
    if (len === -1) {
      len = b.readInt32LE(pos + 4);
      at = pos + 8;
    }
    if (len <= 0) break;
    const bb = new ByteBuffer(b.subarray(at, at + len));
    const msg = Message.getRootAsMessage(bb);
    out.push({ at, bb, msg });
    pos = at + len + Number(msg.bodyLength());
  }
  return out;
}

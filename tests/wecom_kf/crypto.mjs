// The 微信客服 emulator's callback crypto: the vendor's own @wecom/crypto, so the bot's
// decryption (channels/wecom_kf_crypto.py) is checked against the vendor's implementation.
// One JSON request per stdin line, one JSON answer per stdout line:
//   {"key": EncodingAESKey, "id": corp id, "token": Token, "message": XML,
//    "timestamp": "…", "nonce": "…"}  →  {"encrypt": "…", "signature": "…"}
import { createInterface } from 'node:readline';
import { encrypt, getSignature } from '@wecom/crypto';

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  try {
    const r = JSON.parse(line);
    const ciphered = encrypt(r.key, r.message, r.id);
    const signature = getSignature(r.token, r.timestamp, r.nonce, ciphered);
    process.stdout.write(`${JSON.stringify({ encrypt: ciphered, signature })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`);
  }
});

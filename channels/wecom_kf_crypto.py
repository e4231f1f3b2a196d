"""WeCom's callback crypto (WXBizMsgCrypt, the vendor's page 加解密方案说明): what 微信客服
callbacks are signed and encrypted with.

- signature: SHA-1 of the token, timestamp, nonce and ciphertext, sorted and joined;
- key: the 43-character EncodingAESKey, Base64-decoded (with its `=`) to 32 bytes; the IV is
  the key's first 16 bytes; AES-256-CBC;
- plaintext: 16 random bytes, the message's length (4 bytes, network order), the message
  (UTF-8), the receiver's id (the corp id); PKCS#7 padded to a multiple of 32 bytes.

The cipher is PyCA `cryptography`'s, imported when a callback is first read (the bot's
start-up does not pay for it). The bot only reads callbacks; tests/wecom_kf encrypts them
with the vendor's own `@wecom/crypto`, so this is checked against the vendor's code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

__all__ = ["CallbackCrypto", "CryptoError"]

_BLOCK = 32  # the vendor pads to 32 bytes, not AES's 16


class CryptoError(Exception):
    """A callback that is not signed by the token or not readable with the key."""


class CallbackCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            key = b""
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("an EncodingAESKey is 43 Base64 characters (32 bytes)")
        self.token, self.key, self.receive_id = token, key, receive_id

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        joined = "".join(sorted([self.token, timestamp, nonce, encrypted]))
        return hashlib.sha1(joined.encode()).hexdigest()

    def verify(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = self.signature(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, signature.lower()):
            raise CryptoError("wrong msg_signature")

    def decrypt(self, encrypted: str) -> str:
        """The message inside; CryptoError when it is not one for this receiver."""
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error:
            raise CryptoError("the ciphertext is not Base64") from None
        if not data or len(data) % 16:
            raise CryptoError("the ciphertext is not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        plain = plain[16:-pad]
        if len(plain) < 4:
            raise CryptoError("too short")
        (length,) = struct.unpack(">I", plain[:4])
        message, receiver = plain[4 : 4 + length], plain[4 + length :]
        if len(message) != length or receiver.decode(errors="replace") != self.receive_id:
            raise CryptoError("not for this receiver")
        try:
            return message.decode()
        except UnicodeDecodeError:
            raise CryptoError("not UTF-8") from None

/** Short authentication string (SAS) both friends read aloud to confirm they share the same keys. */
import { concatBytes, hkdf, utf8 } from './hash.ts';
import { WORDS } from './words.ts';

/** Number of words in the auth phrase: 6 words from a 256-word list = 48 bits (Matrix SAS: 7 emoji × 6 bits = 42). */
export const AUTH_PHRASE_WORDS = 6;

const EMPTY = new Uint8Array(0);
const LABEL = utf8('mesh-v1-sas');

/** Order-independent auth phrase for two identities and a shared secret: AUTH_PHRASE_WORDS words joined by spaces. */
export function authPhrase(
  a: { signPub: Uint8Array; boxPub: Uint8Array },
  b: { signPub: Uint8Array; boxPub: Uint8Array },
  secret: Uint8Array,
): string {
  const blobA = concatBytes(a.signPub, a.boxPub);
  const blobB = concatBytes(b.signPub, b.boxPub);
  const [first, second] = Buffer.compare(blobA, blobB) <= 0 ? [blobA, blobB] : [blobB, blobA];
  const h = hkdf(secret, EMPTY, concatBytes(LABEL, first, second));
  const words: string[] = [];
  for (let i = 0; i < AUTH_PHRASE_WORDS; i++) words.push(WORDS[h[i]]);
  return words.join(' ');
}

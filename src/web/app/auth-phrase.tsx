/** The auth phrase, big and word by word, with what to do with it. */

/** Shows `phrase` for comparison with `name` by voice or in person. */
export function AuthPhrase({ phrase, name, testId }: { phrase: string; name: string; testId: string }) {
  return (
    <div class="phrase-box">
      <p class="phrase" data-testid={testId}>
        {phrase}
      </p>
      <p class="phrase-help">
        <strong>Compare this phrase with {name} by voice or in person</strong> — call them or meet, and read the words
        to each other. Do not compare it over a chat you do not trust. The same words mean nobody is in between; if even
        one word differs, reject: someone may be intercepting.
      </p>
    </div>
  );
}

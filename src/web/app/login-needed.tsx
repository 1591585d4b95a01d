/** Shown when the API answers 401: the page was opened without the one-time login link. */

/** Tells the user to open the link `mesh start` printed. */
export function LoginNeeded({ onRetry }: { onRetry: () => void }) {
  return (
    <main id="main" class="login-needed" data-testid="login-needed" tabIndex={-1}>
      <div class="card">
        <h1>
          Open the link that <code>mesh start</code> printed
        </h1>
        <p>
          This page talks to your Mesh daemon, which only answers a browser that logged in with its one-time link. Look
          at the terminal where <code>mesh start</code> runs and open the line that looks like
        </p>
        <pre>http://127.0.0.1:7576/login?token=…</pre>
        <p>
          The link logs this browser in and brings you back here. If the daemon was restarted, open the new link it
          printed.
        </p>
        <button type="button" class="btn" onClick={onRetry}>
          I have logged in — try again
        </button>
      </div>
    </main>
  );
}

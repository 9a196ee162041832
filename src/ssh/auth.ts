/**
 * Logging in as OpenSSH's client does (ssh(1), sshd_config(5) AuthenticationMethods): the order of methods
 * tried, a saved password answering keyboard-interactive prompts, and precise messages when it fails.
 */
import type { AnyAuthMethod, AuthenticationType, NextAuthHandler, Prompt } from 'ssh2';

import { CroniumError } from '../core/errors.ts';
import { where, type SshAuth, type SshTarget } from './target.ts';

/** How a message names a credential: "private key", "password", "keys in the SSH agent". */
export function describeAuth(auth: SshAuth): string {
  return auth.type === 'key'
    ? 'private key'
    : auth.type === 'password'
      ? 'password'
      : 'keys in the SSH agent';
}

/**
 * A prompt the saved password answers: one that does not echo and asks for a password (PAM's "Password: ",
 * "user@host's password: ", and the usual translations). Anything else (a one-time code, a new password)
 * needs a person.
 */
function isPasswordPrompt(prompt: Prompt): boolean {
  return (
    prompt.echo !== true &&
    /pass(word|wort)|mot de passe|contrase(ñ|n)a|senha|wachtwoord|пароль|密码|パスワード/i.test(prompt.prompt)
  );
}

type AuthStep = AuthenticationType | AnyAuthMethod | false;

/**
 * Picks the authentication methods to try: a key (a file or the agent's) at once — a public key is only
 * offered until the server accepts it (RFC 4252 §7), so trying it unasked costs nothing and saves the
 * round trip of "none"; a password only after "none" has shown that the server takes one, as OpenSSH's
 * client does, so no server that offers none logs a refused password. Then keyboard-interactive (RFC
 * 4256) where a saved password answers the server's password prompt (servers with PasswordAuthentication no and PAM, see
 * sshd_config(5) KbdInteractiveAuthentication), and where a key that was accepted only in part
 * (AuthenticationMethods publickey,keyboard-interactive) meets the second step. A prompt the credential
 * cannot answer ends the attempt at once with an auth_failed error that quotes the prompt.
 */
export class AuthSequence {
  private readonly tried = new Set<string>();
  private offered: string[] | null = null;
  private answeredPassword = false;
  private promptError: CroniumError | null = null;

  private readonly target: SshTarget;
  private readonly abort: (err: CroniumError) => void;

  constructor(target: SshTarget, abort: (err: CroniumError) => void) {
    this.target = target;
    this.abort = abort;
  }

  next(
    methodsLeft: AuthenticationType[] | null,
    partialSuccess: boolean | null,
    next: NextAuthHandler,
  ): void {
    const step = this.pick(methodsLeft, partialSuccess === true);
    if (step !== false) this.tried.add(typeof step === 'string' ? step : step.type);
    (next as (step: AuthStep) => void)(step);
  }

  private pick(methodsLeft: AuthenticationType[] | null, partialSuccess: boolean): AuthStep {
    const auth = this.target.auth;
    const primary = auth.type === 'key' ? 'publickey' : auth.type === 'password' ? 'password' : 'agent';
    if (!methodsLeft) {
      if (primary !== 'password' && !this.tried.has(primary)) return primary;
      return this.tried.has('none') ? false : 'none';
    }
    this.offered = methodsLeft;
    const wire = primary === 'agent' ? 'publickey' : primary;
    if (!partialSuccess && methodsLeft.includes(wire) && !this.tried.has(primary)) return primary;
    const keyboardUseful = auth.type === 'password' || partialSuccess;
    if (
      keyboardUseful &&
      methodsLeft.includes('keyboard-interactive') &&
      !this.tried.has('keyboard-interactive')
    ) {
      return {
        type: 'keyboard-interactive',
        username: this.target.username,
        prompt: (_name, _instructions, _lang, prompts, finish) => this.answer(prompts, finish),
      };
    }
    return false;
  }

  private answer(prompts: Prompt[], finish: (answers: string[]) => void): void {
    const auth = this.target.auth;
    const unanswerable =
      auth.type !== 'password' || this.answeredPassword
        ? prompts[0]
        : prompts.find((p) => !isPasswordPrompt(p));
    if (unanswerable) {
      const at = where(this.target);
      const text = unanswerable.prompt.trim().replace(/\s+/g, ' ').slice(0, 200);
      this.promptError = new CroniumError(
        'auth_failed',
        `Authentication as ${this.target.username} on ${at} stopped: the server asks "${text}" (keyboard-interactive), which the saved ${describeAuth(auth)} cannot answer. ` +
          "Logging in needs a person at this prompt; use a key the server accepts on its own, or change the server's login settings.",
        { details: { prompt: text } },
      );
      this.abort(this.promptError);
      return;
    }
    this.answeredPassword = true;
    finish(prompts.map(() => (auth as { password: string }).password));
  }

  /** A more precise error than ssh2's "All configured authentication methods failed", when there is one. */
  failure(err: Error & { level?: string }): CroniumError | null {
    if (this.promptError) return this.promptError;
    if (err.level !== 'client-authentication' || !this.offered) return null;
    const auth = this.target.auth;
    const wire = auth.type === 'password' ? ['password', 'keyboard-interactive'] : ['publickey'];
    if (wire.some((m) => this.offered!.includes(m) || this.tried.has(m))) return null;
    const at = where(this.target);
    return new CroniumError(
      'auth_failed',
      `Authentication as ${this.target.username} on ${at} failed: the server does not offer ${auth.type === 'password' ? 'password login' : 'key login'} (it offers: ${this.offered.join(', ') || 'nothing'}).`,
      { cause: err },
    );
  }
}

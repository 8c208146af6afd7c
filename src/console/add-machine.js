// @ts-check
// The "add a machine" form: MAC, name, and a disk (the server derives a per-machine target) or
// a target IQN. Changes need the API token: asked for once, kept in localStorage, asked for again
// after a 401. The server's own error text (400, 409) is shown next to the form, because it
// names the field that is wrong.
import { ApiError, TOKEN_HINT, loadToken, postJson, saveToken } from './api.js';
import { byId, h } from './dom.js';

/** @typedef {import('./api.js').Machine} Machine */
/** @typedef {import('./api.js').Disk} Disk */

export class AddMachineForm {
  #form = byId('add-form', HTMLFormElement);
  #tokenBox = byId('token-box', HTMLElement);
  #tokenHint = byId('token-hint', HTMLElement);
  #token = byId('token', HTMLInputElement);
  #tokenSaved = byId('token-saved', HTMLElement);
  #mac = byId('add-mac', HTMLInputElement);
  #name = byId('add-name', HTMLInputElement);
  #fromDisk = byId('source-disk', HTMLInputElement);
  #fromTarget = byId('source-target', HTMLInputElement);
  #disk = byId('add-disk', HTMLSelectElement);
  #target = byId('add-target', HTMLInputElement);
  #submit = byId('add-submit', HTMLButtonElement);
  #message = byId('add-message', HTMLElement);
  /** @type {(machine: Machine) => void} */
  #onAdded;

  /** @param {(machine: Machine) => void} onAdded */
  constructor(onAdded) {
    this.#onAdded = onAdded;
    this.#tokenHint.textContent = TOKEN_HINT;
    this.#showToken(loadToken() === '', null);
    byId('token-forget', HTMLButtonElement).addEventListener('click', () => {
      saveToken('');
      this.#showToken(true, null);
      this.#token.focus();
    });
    // Typing in a field picks its source, so nobody has to click the radio first.
    this.#disk.addEventListener('change', () => (this.#fromDisk.checked = true));
    this.#target.addEventListener('input', () => (this.#fromTarget.checked = true));
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#send();
    });
  }

  /**
   * Fills the MAC from an unregistered machine's row and moves on to the name.
   * @param {string} mac
   */
  prefill(mac) {
    this.#mac.value = mac;
    this.#name.focus();
  }

  /**
   * The disks to choose from; none (or no disk API) leaves only the target field.
   * @param {readonly Disk[] | null} disks
   */
  setDisks(disks) {
    const chosen = this.#disk.value;
    const options = (disks ?? []).map((d) => h('option', { value: d.name, selected: d.name === chosen }, `${d.name}${d.usedBy.length > 0 ? ' (in use)' : ''}`));
    this.#disk.replaceChildren(h('option', { value: '' }, options.length === 0 ? 'no disks on this server' : 'choose a disk…'), ...options);
    this.#disk.disabled = options.length === 0;
    this.#fromDisk.disabled = options.length === 0;
    if (options.length === 0) this.#fromTarget.checked = true;
  }

  /**
   * @param {boolean} ask show the token field (else "token saved · change")
   * @param {string | null} why the server's words when it refused the token
   */
  #showToken(ask, why) {
    this.#tokenBox.hidden = !ask;
    this.#tokenSaved.hidden = ask;
    if (why !== null) this.#say(`${why}`, 'error');
  }

  /**
   * @param {string} text
   * @param {'error' | 'ok' | 'busy'} tone
   */
  #say(text, tone) {
    this.#message.textContent = text;
    this.#message.className = `message message-${tone}`;
  }

  /** @param {string} token accepted by the server */
  #keepToken(token) {
    saveToken(token);
    this.#token.value = '';
    this.#showToken(false, null);
  }

  /** @returns {{ body: Record<string, unknown> } | { problem: string }} */
  #body() {
    const mac = this.#mac.value.trim();
    const name = this.#name.value.trim();
    if (mac === '' || name === '') return { problem: 'A machine needs a MAC address and a name.' };
    if (this.#fromDisk.checked) {
      if (this.#disk.value === '') return { problem: 'Choose a disk, or give a target IQN instead.' };
      return { body: { mac, name, disks: [this.#disk.value] } };
    }
    const target = this.#target.value.trim();
    if (target === '') return { problem: 'Give the target IQN the machine boots from (or choose a disk).' };
    return { body: { mac, name, boot: { kind: 'sanboot', disks: [{ target, lun: 0 }] } } };
  }

  async #send() {
    const token = this.#tokenBox.hidden ? loadToken() : this.#token.value.trim();
    if (token === '') {
      this.#showToken(true, `This change needs the ${TOKEN_HINT}.`);
      this.#token.focus();
      return;
    }
    const built = this.#body();
    if ('problem' in built) {
      this.#say(built.problem, 'error');
      return;
    }
    this.#submit.disabled = true;
    this.#say('adding…', 'busy');
    try {
      const machine = /** @type {Machine} */ (await postJson('/api/machines', built.body, token));
      this.#keepToken(token);
      this.#say(`Added ${machine.name} (${machine.mac}).`, 'ok');
      this.#mac.value = '';
      this.#name.value = '';
      this.#onAdded(machine);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        saveToken('');
        this.#showToken(true, `The server refused the token: ${err.message}`);
        this.#token.select();
      } else {
        // Any answer but 401 means the token was good: keep it, whatever was wrong with the rest.
        if (err instanceof ApiError) this.#keepToken(token);
        this.#say(err instanceof Error ? err.message : String(err), 'error');
      }
    } finally {
      this.#submit.disabled = false;
    }
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDhcpSnippets } from './dhcp-snippets.ts';

test('snippets name this server, the script URL and both iPXE builds', () => {
  const text = renderDhcpSnippets({ server: '192.168.1.5', httpPort: 8080 });
  assert.match(text, /dhcp-boot=tag:ipxe,http:\/\/192\.168\.1\.5:8080\/boot\.ipxe\n/);
  assert.match(text, /dhcp-boot=tag:!ipxe,tag:!efi64,undionly\.kpxe,,192\.168\.1\.5\n/);
  assert.match(text, /next-server 192\.168\.1\.5;/);
  assert.match(text, /if exists user-class and option user-class = "iPXE" \{\n {4}filename "http:\/\/192\.168\.1\.5:8080\/boot\.ipxe";/);
  assert.match(text, /"boot-file-name": "ipxe\.efi"/);
});

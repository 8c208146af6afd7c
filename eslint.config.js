// Lint rules. The import restrictions keep dependencies pointing one way (docs/ARCHITECTURE.md):
// codecs and pure state machines never touch sockets or timers, SCSI knows nothing of iSCSI,
// storage knows nothing of SCSI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noIo = ['node:net', 'node:dgram', 'node:fs', 'node:timers', 'net', 'dgram', 'fs'];
const restrict = (paths, patterns = []) => ({
  'no-restricted-imports': ['error', { paths: paths.map((name) => ({ name, message: 'layering: see docs/ARCHITECTURE.md' })), patterns }],
});

export default tseslint.config(
  { ignores: ['node_modules', 'web/dist', 'bin'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['src/iscsi/pdu/**/*.ts', 'src/iscsi/negotiation.ts', 'src/iscsi/chap.ts', 'src/iscsi/login.ts', 'src/iscsi/text-keys.ts', 'src/iscsi/framer.ts'], ignores: ['**/*.test.ts'], rules: restrict(noIo) },
  { files: ['src/dhcp/wire/**/*.ts', 'src/dhcp/{pxe,responder,leases,addressing,reply-options}.ts', 'src/tftp/{wire,wire-client,options,transfer,files}.ts', 'src/boot/{ipxe-script,policy,inventory,pxelinux,dhcp-snippets,boot-entry,types}.ts', 'src/import/{plan,ietd,tgt-targets,dnsmasq,pxelinux}.ts'], ignores: ['**/*.test.ts'], rules: restrict(noIo) },
  { files: ['src/scsi/**/*.ts'], ignores: ['**/*.test.ts'], rules: restrict(noIo, [{ group: ['**/iscsi/**'], message: 'scsi/ knows nothing of iSCSI' }]) },
  { files: ['src/storage/**/*.ts'], ignores: ['**/*.test.ts'], rules: restrict([], [{ group: ['**/scsi/**', '**/iscsi/**'], message: 'storage/ speaks blocks, not SCSI' }]) },
);

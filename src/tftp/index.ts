// The TFTP service's public face, for the composition root and the boot policy.
export { startTftpServer } from './server.ts';
export type { TftpEvent, TftpServer, TftpServerOptions, TftpServerStats } from './server.ts';
export { DirectoryProvider } from './directory-provider.ts';
export type { DirectoryRoot } from './directory-provider.ts';
export { bufferSource, normaliseRequestPath, ProviderChain, TftpError, VirtualProvider } from './files.ts';
export type { FileSource, OpenResult, TftpFileProvider, TftpPeer, VirtualFile, VirtualLookup } from './files.ts';
export type { TransferConfig } from './transfer.ts';
export { DEFAULT_TRANSFER_CONFIG } from './transfer.ts';
export { ErrorCode } from './wire.ts';

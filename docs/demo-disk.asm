org 0x7c00
bits 16
start:
  xor ax, ax
  mov ds, ax
  mov si, msg
.loop:
  lodsb
  test al, al
  jz .done
  mov ah, 0x0e
  mov bx, 7
  int 0x10
  jmp .loop
.done:
  cli
  hlt
  jmp .done
msg db 'diskless demo disk: this machine booted over iSCSI.', 13, 10, 'Serve your own image with: diskless serve --disk IMAGE', 13, 10, 0

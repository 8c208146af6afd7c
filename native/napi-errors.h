// Shared by the addons of native/: errors thrown to JavaScript carry the errno's name as
// err.code (EAGAIN, EADDRNOTAVAIL, ...) and "syscall: strerror" as the message, as Node's own.
#ifndef DISKLESS_NAPI_ERRORS_H
#define DISKLESS_NAPI_ERRORS_H

#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

/* A JavaScript Error for errno `err` from `syscall`. */
static inline napi_value make_error(napi_env env, int err, const char* syscall) {
  char message[160];
  napi_value code, text, error;
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(err));
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  return error;
}

/* Throws make_error(...) and returns NULL, for `return throw_errno(...)` in a callback. */
static inline napi_value throw_errno(napi_env env, int err, const char* syscall) {
  napi_throw(env, make_error(env, err, syscall));
  return NULL;
}

#endif

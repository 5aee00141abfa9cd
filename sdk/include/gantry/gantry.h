/*
 * gantry/gantry.h - everything a stage plugin needs.
 *
 * The SDK's public face: stage.h (the ABI), config.h (options),
 * context.h (context, logging, errors, secrets, events), cmd.h (running
 * programs), http.h (HTTP), json.h (JSON), aws.h (AWS APIs), buf.h (a
 * growing string), util.h (allocation that cannot fail, a clock),
 * digest.h (SHA-256, base64).  Link with libgantry:
 * `pkg-config --cflags --libs gantry-sdk`; install plugins into
 * `pkg-config --variable=plugindir gantry-sdk`.
 */
#ifndef GANTRY_GANTRY_H
#define GANTRY_GANTRY_H

#include <gantry/stage.h>
#include <gantry/config.h>
#include <gantry/context.h>
#include <gantry/cmd.h>
#include <gantry/http.h>
#include <gantry/json.h>
#include <gantry/aws.h>
#include <gantry/buf.h>
#include <gantry/util.h>
#include <gantry/digest.h>

/* libgantry's run-time version (the package version, e.g. "0.1.0"). */
#ifdef __cplusplus
extern "C" {
#endif
const char *gantry_version(void);
#ifdef __cplusplus
}
#endif

#endif

/*
 * The engine's settings from the settings file: one translation for batch and live
 * mode, so the two can never count by different definitions.
 */
#ifndef CHATLOGD_ENGINE_CONFIG_H
#define CHATLOGD_ENGINE_CONFIG_H

#include <stddef.h>

#include "config.h"
#include "engine.h"
#include "service_hours.h"

/* Fills *out from cfg; live = 1 keeps deadlines (alerts, closing by the clock).
 * Returns the service-hours set the settings point to (the caller frees it after
 * the engine), or NULL with err on a bad schedule. */
struct service_hours_set *engine_config_settings(const struct config *cfg, int live,
                                                 struct engine_settings *out, char *err,
                                                 size_t errlen);

#endif

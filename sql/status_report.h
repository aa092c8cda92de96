/* status_report.h — the report printed by `af-db status`. */
#ifndef AF_STATUS_REPORT_H
#define AF_STATUS_REPORT_H

#include "app.h"
#include "error.h"

/* Prints, per stage, done / pending / failed track counts with the top failure reasons,
 * then the last run of every program. */
int af_status_report_print(struct af_app *app, af_err *err);

#endif

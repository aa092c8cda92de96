/* model_describe.c — which model a program used, in words; see model_describe.h. */
#include "model_describe.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"

int af_model_identity(PGconn *conn, long long model_id, struct af_model_identity *out,
                      af_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", model_id);
    const char *p[] = {id};
    PGresult *res = af_db_query(conn, "SELECT coalesce(name, ''), is_default FROM models"
                                      " WHERE model_id = $1::bigint", 1, p, err);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return af_err_set(err, "model %lld does not exist", model_id);
    }
    out->id = model_id;
    snprintf(out->name, sizeof out->name, "%s", PQgetvalue(res, 0, 0));
    out->is_default = PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    return 0;
}

void af_model_identity_text(const struct af_model_identity *m, char *buf, size_t len)
{
    snprintf(buf, len, "model %lld%s%s%s%s", m->id, m->name[0] ? " '" : "", m->name,
             m->name[0] ? "'" : "", m->is_default ? " (the default model)" : "");
}

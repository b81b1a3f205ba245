/* results.csv: one row per task and metric. */
#include <math.h>

#include "report/format.h"
#include "report/report.h"

int chv_report_write_csv(FILE *out, const chv_run *run) {
    fprintf(out, "task,metric,value,stderr,n,higher_is_better\n");
    for (size_t t = 0; t < run->n_tasks; t++) {
        const chv_task *task = &run->tasks[t];
        for (size_t m = 0; m < task->n_metrics; m++) {
            const chv_metric *metric = &task->metrics[m];
            chv_csv_field(out, task->name);
            fputc(',', out);
            chv_csv_field(out, metric->name);
            fputc(',', out);

            /* Missing numbers are empty fields, which spreadsheet and
             * dataframe readers load as missing values. */
            if (!isnan(metric->value))
                fprintf(out, "%.10g", metric->value);
            fputc(',', out);
            if (!isnan(metric->stderr_value))
                fprintf(out, "%.10g", metric->stderr_value);
            fputc(',', out);
            if (task->sample_len >= 0)
                fprintf(out, "%ld", task->sample_len);
            fputc(',', out);
            if (metric->higher_is_better >= 0)
                fputs(metric->higher_is_better ? "true" : "false", out);
            fputc('\n', out);
        }
    }
    return ferror(out) ? -1 : 0;
}

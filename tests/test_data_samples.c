/* Tests for the bundled samples under data/samples/ and for data/MANIFEST:
 * each sample follows its official schema, the manifest is well formed, and
 * git ignores the official files fetched into data/ but not the samples. */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "util/fileio.h"
#include "util/jsonl.h"
#include "util/lines.h"

/* Reads every record of a JSONL sample into items[] and returns the count. */
static int read_records(const char *path, cJSON **items, int max_items) {
    chv_error err;
    chv_jsonl *reader = chv_jsonl_open(path, &err);
    ck_assert_msg(reader != NULL, "%s", err.message);
    int n = 0, rc;
    cJSON *item;
    while ((rc = chv_jsonl_next(reader, &item, &err)) == 1) {
        ck_assert_msg(n < max_items, "%s: more than %d records", path, max_items);
        items[n++] = item;
    }
    ck_assert_msg(rc == 0, "%s", err.message);
    chv_jsonl_close(reader);
    return n;
}

static void free_records(cJSON **items, int n) {
    for (int i = 0; i < n; i++)
        cJSON_Delete(items[i]);
}

static const char *string_field(const cJSON *item, const char *name, const char *path, int index) {
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(item, name);
    ck_assert_msg(cJSON_IsString(field), "%s record %d: '%s' is not a string", path, index, name);
    ck_assert_msg(field->valuestring[0] != '\0', "%s record %d: '%s' is empty", path, index, name);
    return field->valuestring;
}

/* Checks the ARC/OpenBookQA schema and returns how many records it read. */
static int check_arc_schema(const char *path) {
    cJSON *items[64];
    int n = read_records(path, items, 64);
    for (int i = 0; i < n; i++) {
        string_field(items[i], "id", path, i);
        const char *key = string_field(items[i], "answerKey", path, i);
        const cJSON *question = cJSON_GetObjectItemCaseSensitive(items[i], "question");
        ck_assert_msg(cJSON_IsObject(question), "%s record %d: no question object", path, i);
        string_field(question, "stem", path, i);
        const cJSON *choices = cJSON_GetObjectItemCaseSensitive(question, "choices");
        ck_assert_msg(cJSON_IsArray(choices), "%s record %d: no choices", path, i);
        int n_choices = cJSON_GetArraySize(choices), key_found = 0;
        ck_assert_msg(n_choices >= 3 && n_choices <= 5, "%s record %d: %d choices", path, i, n_choices);
        const cJSON *choice;
        cJSON_ArrayForEach(choice, choices) {
            string_field(choice, "text", path, i);
            if (strcmp(string_field(choice, "label", path, i), key) == 0)
                key_found++;
        }
        ck_assert_msg(key_found == 1, "%s record %d: answerKey '%s' is not one label", path, i, key);
    }
    free_records(items, n);
    return n;
}

START_TEST(arc_samples_follow_schema) {
    ck_assert_int_ge(check_arc_schema("data/samples/arc/ARC-Easy-Test.jsonl"), 10);
    ck_assert_int_ge(check_arc_schema("data/samples/arc/ARC-Challenge-Test.jsonl"), 5);
}
END_TEST

START_TEST(openbookqa_samples_follow_schema) {
    ck_assert_int_ge(check_arc_schema("data/samples/openbookqa/test.jsonl"), 5);
}
END_TEST

/* Returns the next line of reader, failing the test at end of file. */
static const char *next_line(chv_lines *reader, const char *path) {
    const char *line;
    size_t len;
    chv_error err;
    int rc = chv_lines_next(reader, &line, &len, &err);
    ck_assert_msg(rc == 1, "%s: ends inside an item", path);
    return line;
}

START_TEST(hellaswag_formats_agree) {
    const char *path = "data/samples/hellaswag/hellaswag_val.jsonl";
    const char *text_path = "data/samples/hellaswag/hellaswag_val_full.txt";
    cJSON *items[32];
    int n = read_records(path, items, 32);
    ck_assert_int_ge(n, 4);

    chv_error err;
    chv_lines *text = chv_lines_open(text_path, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    for (int i = 0; i < n; i++) {
        const char *ctx = string_field(items[i], "ctx", path, i);
        const char *ctx_a = string_field(items[i], "ctx_a", path, i);
        const char *ctx_b = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(items[i], "ctx_b"));
        ck_assert_ptr_nonnull(ctx_b);
        /* The official files build ctx as ctx_a, a space and ctx_b. */
        ck_assert_int_eq(strncmp(ctx, ctx_a, strlen(ctx_a)), 0);
        if (ctx_b[0] != '\0')
            ck_assert_str_eq(ctx + strlen(ctx_a) + 1, ctx_b);
        string_field(items[i], "activity_label", path, i);
        string_field(items[i], "source_id", path, i);
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(items[i], "label");
        const cJSON *endings = cJSON_GetObjectItemCaseSensitive(items[i], "endings");
        ck_assert(cJSON_IsNumber(label));
        ck_assert_int_eq(cJSON_GetArraySize(endings), 4);

        /* The text form: context line, gold line, four ending lines. */
        const char *context_line = next_line(text, text_path);
        const char *label_text = string_field(items[i], "activity_label", path, i);
        ck_assert_msg(strncmp(context_line, label_text, strlen(label_text)) == 0,
                      "%s item %d starts with '%s'", text_path, i, context_line);
        ck_assert_int_eq(atoi(next_line(text, text_path)), label->valueint);
        for (int e = 0; e < 4; e++) {
            const char *ending = next_line(text, text_path);
            ck_assert_msg(ending[0] != '\0' && strchr(ending, '[') == NULL,
                          "%s item %d ending %d: '%s'", text_path, i, e, ending);
        }
    }
    const char *line;
    size_t len;
    ck_assert_msg(chv_lines_next(text, &line, &len, &err) == 0, "%s has extra lines", text_path);
    chv_lines_close(text);
    free_records(items, n);
}
END_TEST

START_TEST(winogrande_blank_positions) {
    const char *path = "data/samples/winogrande/dev.jsonl";
    cJSON *items[32];
    int n = read_records(path, items, 32);
    int at_start = 0, in_middle = 0, at_end = 0;
    for (int i = 0; i < n; i++) {
        const char *sentence = string_field(items[i], "sentence", path, i);
        const char *blank = strchr(sentence, '_');
        ck_assert_msg(blank != NULL && strchr(blank + 1, '_') == NULL,
                      "%s record %d: needs exactly one '_'", path, i);
        /* A blank followed only by the final period counts as at the end,
         * as in the official file, where no sentence ends with a bare '_'. */
        if (blank == sentence)
            at_start++;
        else if (strcmp(blank + 1, ".") == 0)
            at_end++;
        else
            in_middle++;
        string_field(items[i], "qID", path, i);
        string_field(items[i], "option1", path, i);
        string_field(items[i], "option2", path, i);
        const char *answer = string_field(items[i], "answer", path, i);
        ck_assert_msg(strcmp(answer, "1") == 0 || strcmp(answer, "2") == 0, "%s record %d", path, i);
    }
    ck_assert_int_gt(at_start, 0);
    ck_assert_int_gt(in_middle, 0);
    ck_assert_int_gt(at_end, 0);
    free_records(items, n);
}
END_TEST

START_TEST(piqa_labels_match_records) {
    const char *path = "data/samples/piqa/valid.jsonl";
    cJSON *items[32];
    int n = read_records(path, items, 32);
    for (int i = 0; i < n; i++) {
        string_field(items[i], "goal", path, i);
        string_field(items[i], "sol1", path, i);
        string_field(items[i], "sol2", path, i);
    }
    free_records(items, n);

    chv_error err;
    chv_lines *labels = chv_lines_open("data/samples/piqa/valid-labels.lst", &err);
    ck_assert_msg(labels != NULL, "%s", err.message);
    const char *line;
    size_t len;
    int n_labels = 0;
    while (chv_lines_next(labels, &line, &len, &err) == 1) {
        ck_assert_msg(strcmp(line, "0") == 0 || strcmp(line, "1") == 0, "label line %d: '%s'",
                      n_labels + 1, line);
        n_labels++;
    }
    chv_lines_close(labels);
    ck_assert_int_eq(n_labels, n);
}
END_TEST

START_TEST(boolq_samples_follow_schema) {
    const char *path = "data/samples/boolq/dev.jsonl";
    cJSON *items[32];
    int n = read_records(path, items, 32);
    int n_true = 0;
    for (int i = 0; i < n; i++) {
        string_field(items[i], "question", path, i);
        string_field(items[i], "title", path, i);
        string_field(items[i], "passage", path, i);
        const cJSON *answer = cJSON_GetObjectItemCaseSensitive(items[i], "answer");
        ck_assert_msg(cJSON_IsBool(answer), "%s record %d: answer is not a boolean", path, i);
        n_true += cJSON_IsTrue(answer);
    }
    ck_assert_int_gt(n_true, 0);
    ck_assert_int_lt(n_true, n);
    free_records(items, n);
}
END_TEST

/* The 67 BLiMP paradigms, one file each, named by the paradigm's UID. */
static const char *const blimp_paradigms[] = {
    "adjunct_island", "anaphor_gender_agreement", "anaphor_number_agreement",
    "animate_subject_passive", "animate_subject_trans", "causative", "complex_NP_island",
    "coordinate_structure_constraint_complex_left_branch",
    "coordinate_structure_constraint_object_extraction", "determiner_noun_agreement_1",
    "determiner_noun_agreement_2", "determiner_noun_agreement_irregular_1",
    "determiner_noun_agreement_irregular_2", "determiner_noun_agreement_with_adj_2",
    "determiner_noun_agreement_with_adj_irregular_1",
    "determiner_noun_agreement_with_adj_irregular_2", "determiner_noun_agreement_with_adjective_1",
    "distractor_agreement_relational_noun", "distractor_agreement_relative_clause", "drop_argument",
    "ellipsis_n_bar_1", "ellipsis_n_bar_2", "existential_there_object_raising",
    "existential_there_quantifiers_1", "existential_there_quantifiers_2",
    "existential_there_subject_raising", "expletive_it_object_raising", "inchoative",
    "intransitive", "irregular_past_participle_adjectives", "irregular_past_participle_verbs",
    "irregular_plural_subject_verb_agreement_1", "irregular_plural_subject_verb_agreement_2",
    "left_branch_island_echo_question", "left_branch_island_simple_question",
    "matrix_question_npi_licensor_present", "npi_present_1", "npi_present_2",
    "only_npi_licensor_present", "only_npi_scope", "passive_1", "passive_2",
    "principle_A_c_command", "principle_A_case_1", "principle_A_case_2", "principle_A_domain_1",
    "principle_A_domain_2", "principle_A_domain_3", "principle_A_reconstruction",
    "regular_plural_subject_verb_agreement_1", "regular_plural_subject_verb_agreement_2",
    "sentential_negation_npi_licensor_present", "sentential_negation_npi_scope",
    "sentential_subject_island", "superlative_quantifiers_1", "superlative_quantifiers_2",
    "tough_vs_raising_1", "tough_vs_raising_2", "transitive", "wh_island",
    "wh_questions_object_gap", "wh_questions_subject_gap", "wh_questions_subject_gap_long_distance",
    "wh_vs_that_no_gap", "wh_vs_that_no_gap_long_distance", "wh_vs_that_with_gap",
    "wh_vs_that_with_gap_long_distance",
};
enum { N_BLIMP_PARADIGMS = sizeof blimp_paradigms / sizeof blimp_paradigms[0] };

static int is_blimp_paradigm(const char *name) {
    for (int p = 0; p < N_BLIMP_PARADIGMS; p++)
        if (strcmp(blimp_paradigms[p], name) == 0)
            return 1;
    return 0;
}

static void bool_field(const cJSON *item, const char *name, const char *path, int index) {
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(item, name);
    ck_assert_msg(cJSON_IsBool(field), "%s record %d: '%s' is not a boolean", path, index, name);
}

START_TEST(blimp_has_every_paradigm) {
    ck_assert_int_eq(N_BLIMP_PARADIGMS, 67);

    /* data/samples/blimp contains exactly these files, so a run over the
     * samples finds a file for every paradigm and no stray file. */
    DIR *dir = opendir("data/samples/blimp");
    ck_assert_msg(dir != NULL, "cannot open data/samples/blimp");
    int n_files = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        char name[256];
        snprintf(name, sizeof name, "%s", entry->d_name);
        size_t len = strlen(name);
        ck_assert_msg(len > 6 && strcmp(name + len - 6, ".jsonl") == 0, "data/samples/blimp/%s is not a .jsonl file",
                      entry->d_name);
        name[len - 6] = '\0';
        ck_assert_msg(is_blimp_paradigm(name), "data/samples/blimp/%s is not a BLiMP paradigm", entry->d_name);
        n_files++;
    }
    closedir(dir);
    ck_assert_int_eq(n_files, N_BLIMP_PARADIGMS);
}
END_TEST

START_TEST(blimp_samples_follow_schema) {
    for (int p = 0; p < N_BLIMP_PARADIGMS; p++) {
        char path[256];
        snprintf(path, sizeof path, "data/samples/blimp/%s.jsonl", blimp_paradigms[p]);
        cJSON *items[32];
        int n = read_records(path, items, 32);
        ck_assert_msg(n >= 2 && n <= 5, "%s: %d pairs, expected 2 to 5", path, n);
        const char *field0 = NULL, *term0 = NULL;
        for (int i = 0; i < n; i++) {
            const char *good = string_field(items[i], "sentence_good", path, i);
            const char *bad = string_field(items[i], "sentence_bad", path, i);
            ck_assert_msg(strcmp(good, bad) != 0, "%s record %d: identical sentences", path, i);
            ck_assert_str_eq(string_field(items[i], "UID", path, i), blimp_paradigms[p]);

            /* Field and term are properties of the paradigm, so every
             * record of a file repeats the first record's values. */
            const char *field = string_field(items[i], "field", path, i);
            const char *term = string_field(items[i], "linguistics_term", path, i);
            if (i == 0) {
                field0 = field;
                term0 = term;
            }
            ck_assert_str_eq(field, field0);
            ck_assert_str_eq(term, term0);

            bool_field(items[i], "simple_LM_method", path, i);
            bool_field(items[i], "one_prefix_method", path, i);
            bool_field(items[i], "two_prefix_method", path, i);
            bool_field(items[i], "lexically_identical", path, i);
            char pair_id[16];
            snprintf(pair_id, sizeof pair_id, "%d", i);
            ck_assert_str_eq(string_field(items[i], "pairID", path, i), pair_id);
        }
        free_records(items, n);
    }
}
END_TEST

START_TEST(arithmark_covers_topics) {
    const char *path = "data/samples/arithmark/arithmark_2.0.jsonl";
    cJSON *items[64];
    int n = read_records(path, items, 64);
    int string_labels = 0, hard = 0, easy = 0;
    char topics[16][32];
    int n_topics = 0;
    for (int i = 0; i < n; i++) {
        string_field(items[i], "ctx", path, i);
        const cJSON *endings = cJSON_GetObjectItemCaseSensitive(items[i], "endings");
        ck_assert_int_eq(cJSON_GetArraySize(endings), 4);
        const cJSON *ending;
        cJSON_ArrayForEach(ending, endings) {
            ck_assert_msg(cJSON_IsString(ending) && ending->valuestring[0] == ' ',
                          "%s record %d: endings must start with a space", path, i);
        }
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(items[i], "label");
        int gold;
        if (cJSON_IsString(label)) {
            ck_assert(isdigit((unsigned char)label->valuestring[0]) && label->valuestring[1] == '\0');
            gold = label->valuestring[0] - '0';
            string_labels++;
        } else {
            ck_assert(cJSON_IsNumber(label));
            gold = label->valueint;
        }
        ck_assert_int_ge(gold, 0);
        ck_assert_int_lt(gold, 4);

        const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(items[i], "metadata");
        const char *topic = string_field(metadata, "topic", path, i);
        const char *difficulty = string_field(metadata, "difficulty", path, i);
        ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(metadata, "operator_count")));
        hard += strcmp(difficulty, "hard") == 0;
        easy += strcmp(difficulty, "easy") == 0;
        int seen = 0;
        for (int t = 0; t < n_topics; t++)
            seen |= strcmp(topics[t], topic) == 0;
        if (!seen && n_topics < 16)
            snprintf(topics[n_topics++], sizeof topics[0], "%s", topic);
    }
    ck_assert_int_eq(n_topics, 8);
    ck_assert_int_gt(string_labels, 0);
    ck_assert_int_gt(hard, 0);
    ck_assert_int_gt(easy, 0);
    free_records(items, n);
}
END_TEST

START_TEST(wikitext_sample_pages) {
    chv_error err;
    const char *path = "data/samples/wikitext2/wiki.test.raw";
    chv_lines *reader = chv_lines_open(path, &err);
    ck_assert_msg(reader != NULL, "%s", err.message);
    const char *line;
    size_t len;
    int pages = 0, sections = 0;
    while (chv_lines_next(reader, &line, &len, &err) == 1) {
        /* Every line, blank ones included, starts with a space and ends
         * with one, as in the official file. */
        ck_assert_msg(len >= 1 && line[0] == ' ' && line[len - 1] == ' ', "%s:%ld: '%s'", path,
                      chv_lines_number(reader), line);
        if (strncmp(line, " = = ", 5) == 0)
            sections++;
        else if (strncmp(line, " = ", 3) == 0)
            pages++;
    }
    chv_lines_close(reader);
    ck_assert_int_eq(pages, 3);
    ck_assert_int_gt(sections, 3);
}
END_TEST

START_TEST(manifest_lines_well_formed) {
    chv_error err;
    chv_lines *reader = chv_lines_open("data/MANIFEST", &err);
    ck_assert_msg(reader != NULL, "%s", err.message);
    const char *line;
    size_t len;
    int entries = 0, blimp = 0;
    while (chv_lines_next(reader, &line, &len, &err) == 1) {
        if (len == 0 || line[0] == '#')
            continue;
        char path[256], records[32], bytes[32], sha[80], kind[32], extra[8];
        int fields = sscanf(line, "%255s %31s %31s %79s %31s %7s", path, records, bytes, sha, kind, extra);
        ck_assert_msg(fields == 5, "MANIFEST:%ld: %d fields", chv_lines_number(reader), fields);
        ck_assert_msg(strspn(records, "0123456789") == strlen(records), "records '%s'", records);
        ck_assert_msg(strcmp(bytes, "-") == 0 || strspn(bytes, "0123456789") == strlen(bytes),
                      "bytes '%s'", bytes);
        ck_assert_msg(strcmp(sha, "-") == 0 || (strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64),
                      "sha256 '%s'", sha);
        ck_assert_msg(strstr(" official checksum copy derived published unpinned ", kind) != NULL,
                      "kind '%s'", kind);
        if (strncmp(path, "blimp/", 6) == 0) {
            ck_assert_str_eq(records, "1000");

            /* Each official BLiMP file has a bundled sample of the same name. */
            char paradigm[256];
            snprintf(paradigm, sizeof paradigm, "%s", path + 6);
            char *suffix = strstr(paradigm, ".jsonl");
            ck_assert_msg(suffix != NULL && suffix[6] == '\0', "MANIFEST: '%s' is not a .jsonl file", path);
            *suffix = '\0';
            ck_assert_msg(is_blimp_paradigm(paradigm), "MANIFEST: '%s' is not a BLiMP paradigm", path);
            blimp++;
        }
        entries++;
    }
    chv_lines_close(reader);
    ck_assert_int_eq(blimp, 67);
    ck_assert_int_eq(entries, 67 + 11);
}
END_TEST

START_TEST(samples_folder_has_marker) {
    /* cheval run warns about sample data when it finds this file. */
    ck_assert(chv_file_exists("data/samples/SAMPLES.md"));
    ck_assert(!chv_file_exists("data/SAMPLES.md"));
}
END_TEST

START_TEST(official_files_are_git_ignored) {
    test_output out;
    ck_assert_int_eq(test_run("git rev-parse --is-inside-work-tree", NULL, &out), 0);
    int in_git = out.status == 0;
    test_output_free(&out);
    if (!in_git) {
        printf("SKIP official_files_are_git_ignored: not a git checkout\n");
        return;
    }

    /* --non-matching -v prints "::\tPATH" for a path no pattern ignores. */
    ck_assert_int_eq(test_run("awk '!/^#/ && NF { print \"data/\" $1 }' data/MANIFEST | "
                              "git check-ignore --no-index --stdin --non-matching -v",
                              NULL, &out),
                     0);
    ck_assert_msg(strstr(out.out, "::") == NULL, "official files git would commit:\n%s", out.out);
    ck_assert_msg(strstr(out.out, "data/arc/ARC-Easy-Test.jsonl") != NULL, "%s", out.out);
    test_output_free(&out);

    /* No tracked file under data/ is ignored: exit status 1 means none. */
    ck_assert_int_eq(test_run("printf '%s\\n' data/MANIFEST data/README.md data/samples/SAMPLES.md "
                              "data/samples/arc/ARC-Easy-Test.jsonl data/samples/blimp/wh_island.jsonl | "
                              "git check-ignore --no-index --stdin",
                              NULL, &out),
                     0);
    ck_assert_msg(out.status == 1, "ignored by git: %s", out.out);
    test_output_free(&out);
}
END_TEST

int main(void) {
    Suite *s = suite_create("data_samples");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, arc_samples_follow_schema);
    tcase_add_test(tc, openbookqa_samples_follow_schema);
    tcase_add_test(tc, hellaswag_formats_agree);
    tcase_add_test(tc, winogrande_blank_positions);
    tcase_add_test(tc, piqa_labels_match_records);
    tcase_add_test(tc, boolq_samples_follow_schema);
    tcase_add_test(tc, blimp_has_every_paradigm);
    tcase_add_test(tc, blimp_samples_follow_schema);
    tcase_add_test(tc, arithmark_covers_topics);
    tcase_add_test(tc, wikitext_sample_pages);
    tcase_add_test(tc, manifest_lines_well_formed);
    tcase_add_test(tc, samples_folder_has_marker);
    tcase_add_test(tc, official_files_are_git_ignored);
    suite_add_tcase(s, tc);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

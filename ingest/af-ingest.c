/*
 * af-ingest — brings tracks and genre tags into the database and labels them:
 *
 *   af-ingest dir PATH        audio files from a folder (GTZAN layout, or --label-map)
 *   af-ingest msd ...         the Million Song Dataset's Last.fm tags, track list,
 *                             tagtraum and MAGD genre annotations (bulk COPY)
 *   af-ingest lastfm          the Last.fm API: top tracks of each genre's seed tags,
 *                             then the top tags of tracks without tags
 *   af-ingest label           labels every track from its tags under the taxonomy
 *                             (config/genres.conf)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "exitcode.h"
#include "folder.h"
#include "ingest.h"
#include "labels.h"
#include "lastfm_crawl.h"
#include "log.h"
#include "msd.h"
#include "run.h"
#include "taxonomy.h"

static const char usage[] =
    "Usage: af-ingest [OPTION]... COMMAND [ARGUMENT]...\n"
    "Bring tracks and genre tags into the AudioFiler database, and label tracks.\n"
    "\n"
    "Commands:\n"
    "  dir PATH      store every audio file under PATH (bytes kept once per sha256) with\n"
    "                its label: the folder it is in (GTZAN: PATH/<genre>/<file>) unless\n"
    "                --label-map says otherwise; artist and title come from the file's\n"
    "                tags. Symbolic links are followed (loops are reported; a folder\n"
    "                reached again through another link is walked once); files that\n"
    "                are not audio, FIFOs, sockets and devices are skipped, counted and\n"
    "                named. Files are probed, not decoded (af-extract decodes once).\n"
    "                A file is the track of the same audio seen before (sha256 of its\n"
    "                audio packets: a tag edit or a rename is the same track), else of\n"
    "                the same artist and title tags ('Unknown Artist', 'Track 01' and\n"
    "                missing tags never merge); a track keeps the first file's audio\n"
    "                (folder_files.kept). Files gone since the last run (deleted,\n"
    "                renamed, moved) are forgotten with their labels; their tracks stay;\n"
    "                so does a track whose file got new audio at the same path, which\n"
    "                loses the file's label.\n"
    "                Warns when most tracks have no artist. Exit 1 when a file could\n"
    "                not be read, a link is broken, an audio file does not decode, or\n"
    "                a file is larger than 200 MB (its audio is stored whole).\n"
    "      --label-map FILE    rules 'PATTERN LABEL', one a line: a wildcard matched\n"
    "                          against the path under PATH ('*' matches '/' too) and a\n"
    "                          genre tag ('-' = none); the first match wins\n"
    "      --no-labels         the files give no folder labels: the labels earlier\n"
    "                          runs took from these files' folders are withdrawn\n"
    "                          (their tracks' 'folder' tags go; 'label' relabels)\n"
    "      --add-folder-genres  folder labels that no genre of the taxonomy (--genres)\n"
    "                          takes become genres: appended to the taxonomy file as\n"
    "                          '[name]' with the tag 'name = 1' (without it they are\n"
    "                          named in a warning, and their files get no label)\n"
    "      --artist-from-path PATTERN  the artist from the path under PATH, not the tags:\n"
    "                          '{artist}' (once) marks it, '*' is any text within a name,\n"
    "                          '**' any text across folders, '?' one character, e.g.\n"
    "                          '*/{artist}/*' (PATH/<genre>/<artist>/<file>) or\n"
    "                          '*/{artist} - *' (PATH/<genre>/<artist> - <title>.mp3);\n"
    "                          '{artist}' is the shortest text that fits, '*' and '**'\n"
    "                          the longest ('Carol - Song - Live.mp3' gives 'Carol');\n"
    "                          an artist a path gave is withdrawn (the tag's or the\n"
    "                          other source's comes back) at a run whose pattern\n"
    "                          gives it none, unless it was changed since\n"
    "  msd           load the Million Song Dataset side data (bulk COPY; idempotent)\n"
    "      --lastfm DIR        a Last.fm dataset tree (lastfm_train, lastfm_test or\n"
    "                          lastfm_subset: one JSON file per track); repeatable\n"
    "      --unique-tracks FILE  unique_tracks.txt: artist and title of MSD tracks\n"
    "      --tagtraum FILE     msd_tagtraum_cd1/cd2/cd2c.cls (the name tells which);\n"
    "                          repeatable\n"
    "      --magd FILE         msd-MAGD-genreAssignment.cls (or msd-topMAGD-...)\n"
    "      --jobs N            JSON parser threads ([msd] jobs; 0 = one per core)\n"
    "  lastfm        crawl the Last.fm API (key from LASTFM_API_KEY): tag.getTopTracks\n"
    "                for each genre's seed tags, page by page (an interrupted run\n"
    "                resumes where it stopped), then track.getTopTags for tracks found\n"
    "                there that have no tags yet. Responses are kept in the database\n"
    "                and reused for [lastfm] cache_max_age_days; a page that is\n"
    "                not understood is an error and is asked for again next run.\n"
    "                Tags are asked for with autocorrect=1: Last.fm's spelling of\n"
    "                artist and title is kept beside the original (tracks.lastfm_*).\n"
    "                A pause asked for by Retry-After is capped at [lastfm]\n"
    "                max_pause_seconds.\n"
    "      --tag TAG           crawl this tag instead of the taxonomy's seeds; repeatable\n"
    "      --pages-per-tag N   pages of 50 tracks per tag ([lastfm] pages_per_tag)\n"
    "      --rate N            requests per second at most ([lastfm] requests_per_second;\n"
    "                          0 = no limit)\n"
    "      --api-url URL       base URL of the API ([lastfm] api_url)\n"
    "      --no-crawl          skip tag.getTopTracks\n"
    "      --no-toptags        skip track.getTopTags\n"
    "      --all-untagged      look up tags for every track without tags, not only\n"
    "                          for those the crawl found\n"
    "      --max-lookups N     at most N track.getTopTags lookups this run\n"
    "  label         label every track from its tags: each source's tag counts become\n"
    "                shares per genre, averaged over sources; a track whose top genre\n"
    "                has at least the minimum share is labelled, one with competing\n"
    "                genres is excluded and kept with the reason ('conflict').  A\n"
    "                coarse tag (one shared by genres, e.g. MAGD/tagtraum Pop_Rock)\n"
    "                means \"one of these\": another source decides, else the track\n"
    "                is 'ambiguous' (\"ambiguous: pop or rock\").  A tag spelled\n"
    "                several ways counts once per source, at its strongest.\n"
    "      --min-share X       ([labels] min_share)\n"
    "      --min-tag-weight X  ([labels] min_tag_weight)\n"
    "      --max-per-genre N   select at most N labelled tracks per genre, for a\n"
    "                          balanced set ([labels] max_per_genre; 0 = all)\n"
    "\n"
    "  --genres FILE   the genre taxonomy (dir, lastfm, label; default: [labels] genres_file,\n"
    "                  else config/genres.conf)\n"
    "\n"
    "Each command can be interrupted (SIGINT, SIGTERM): it finishes the current item or\n"
    "batch, commits, and exits 0; the next run continues.\n"
    "\n"
    "Each command always takes its own stage lock (ingest-dir, ingest-msd, ingest-lastfm,\n"
    "label), with or without --exclusive: a second run of the same command against the\n"
    "same database exits 5 at once, for dir whatever its PATH (two runs at once could\n"
    "make two tracks of one recording found in both folders). Different commands run\n"
    "side by side.\n";

enum {
    OPT_LABEL_MAP = AF_OPT_FIRST_PROGRAM_OPTION,
    OPT_NO_LABELS,
    OPT_ADD_FOLDER_GENRES,
    OPT_ARTIST_FROM_PATH,
    OPT_LASTFM,
    OPT_UNIQUE_TRACKS,
    OPT_TAGTRAUM,
    OPT_MAGD,
    OPT_JOBS,
    OPT_TAG,
    OPT_PAGES_PER_TAG,
    OPT_RATE,
    OPT_API_URL,
    OPT_NO_CRAWL,
    OPT_NO_TOPTAGS,
    OPT_ALL_UNTAGGED,
    OPT_MAX_LOOKUPS,
    OPT_MIN_SHARE,
    OPT_MIN_TAG_WEIGHT,
    OPT_MAX_PER_GENRE,
    OPT_GENRES,
};

#define MAX_LIST 64

struct args {
    const char *label_map;
    bool no_labels, add_folder_genres;
    const char *artist_from_path;
    const char *lastfm_dirs[MAX_LIST];
    int n_lastfm_dirs;
    const char *unique_tracks;
    const char *tagtraum[MAX_LIST];
    int n_tagtraum;
    const char *magd;
    const char *tags[MAX_LIST];
    int n_tags;
    bool no_crawl, no_toptags, all_untagged;
    long max_lookups;
    const char *genres;
    /* which command each option belongs to, to refuse misplaced ones */
    const char *used_by[8];
    const char *used_name[8];
    int n_used;
};

static void uses(struct args *a, const char *command, const char *option)
{
    if (a->n_used < 8) {
        a->used_by[a->n_used] = command;
        a->used_name[a->n_used] = option;
        a->n_used++;
    }
}

static int load_taxonomy(struct af_app *app, const struct args *a, struct af_taxonomy **tax,
                         af_err *err)
{
    const char *path =
        af_taxonomy_default_path(a->genres, af_config_str(app->cfg, "labels.genres_file"));
    *tax = af_taxonomy_load(path, err);
    return *tax ? 0 : -1;
}

/* af-ingest dir checks its folder labels against the taxonomy: without one it only
 * warns, unless --add-folder-genres needs the file. */
static int load_dir_taxonomy(struct af_app *app, const struct args *a, struct af_taxonomy **tax,
                             af_err *err)
{
    if (load_taxonomy(app, a, tax, err) == 0)
        return 0;
    if (a->add_folder_genres || a->genres)
        return -1;
    log_warn("folder labels are not checked against the taxonomy: %s", err->msg);
    af_err_clear(err);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        AF_APP_LONG_OPTIONS,
        {"label-map", required_argument, NULL, OPT_LABEL_MAP},
        {"no-labels", no_argument, NULL, OPT_NO_LABELS},
        {"add-folder-genres", no_argument, NULL, OPT_ADD_FOLDER_GENRES},
        {"artist-from-path", required_argument, NULL, OPT_ARTIST_FROM_PATH},
        {"lastfm", required_argument, NULL, OPT_LASTFM},
        {"unique-tracks", required_argument, NULL, OPT_UNIQUE_TRACKS},
        {"tagtraum", required_argument, NULL, OPT_TAGTRAUM},
        {"magd", required_argument, NULL, OPT_MAGD},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {"tag", required_argument, NULL, OPT_TAG},
        {"pages-per-tag", required_argument, NULL, OPT_PAGES_PER_TAG},
        {"rate", required_argument, NULL, OPT_RATE},
        {"api-url", required_argument, NULL, OPT_API_URL},
        {"no-crawl", no_argument, NULL, OPT_NO_CRAWL},
        {"no-toptags", no_argument, NULL, OPT_NO_TOPTAGS},
        {"all-untagged", no_argument, NULL, OPT_ALL_UNTAGGED},
        {"max-lookups", required_argument, NULL, OPT_MAX_LOOKUPS},
        {"min-share", required_argument, NULL, OPT_MIN_SHARE},
        {"min-tag-weight", required_argument, NULL, OPT_MIN_TAG_WEIGHT},
        {"max-per-genre", required_argument, NULL, OPT_MAX_PER_GENRE},
        {"genres", required_argument, NULL, OPT_GENRES},
        {NULL, 0, NULL, 0}};
    struct af_app app;
    af_app_init(&app, "af-ingest", usage, argc, argv);
    struct args a = {0};
    int opt;
#define LIST_ADD(list, n, value, name)                                                          \
    do {                                                                                        \
        if ((n) == MAX_LIST)                                                                    \
            af_app_usage_error(&app, "too many %s options", name);                              \
        (list)[(n)++] = (value);                                                                \
    } while (0)
    while ((opt = getopt_long(argc, argv, AF_APP_SHORT, options, NULL)) != -1) {
        if (af_app_option(&app, opt, optarg))
            continue;
        switch (opt) {
        case OPT_LABEL_MAP: a.label_map = optarg; uses(&a, "dir", "--label-map"); break;
        case OPT_NO_LABELS: a.no_labels = true; uses(&a, "dir", "--no-labels"); break;
        case OPT_ADD_FOLDER_GENRES:
            a.add_folder_genres = true;
            uses(&a, "dir", "--add-folder-genres");
            break;
        case OPT_ARTIST_FROM_PATH:
            a.artist_from_path = optarg;
            uses(&a, "dir", "--artist-from-path");
            break;
        case OPT_LASTFM:
            LIST_ADD(a.lastfm_dirs, a.n_lastfm_dirs, optarg, "--lastfm");
            uses(&a, "msd", "--lastfm");
            break;
        case OPT_UNIQUE_TRACKS: a.unique_tracks = optarg; uses(&a, "msd", "--unique-tracks"); break;
        case OPT_TAGTRAUM:
            LIST_ADD(a.tagtraum, a.n_tagtraum, optarg, "--tagtraum");
            uses(&a, "msd", "--tagtraum");
            break;
        case OPT_MAGD: a.magd = optarg; uses(&a, "msd", "--magd"); break;
        case OPT_JOBS:
            af_app_parse_count(&app, "--jobs", optarg, 0);
            af_app_override(&app, "msd.jobs", optarg, "--jobs");
            uses(&a, "msd", "--jobs");
            break;
        case OPT_TAG: LIST_ADD(a.tags, a.n_tags, optarg, "--tag"); uses(&a, "lastfm", "--tag"); break;
        case OPT_PAGES_PER_TAG:
            af_app_override(&app, "lastfm.pages_per_tag", optarg, "--pages-per-tag");
            uses(&a, "lastfm", "--pages-per-tag");
            break;
        case OPT_RATE:
            af_app_override(&app, "lastfm.requests_per_second", optarg, "--rate");
            uses(&a, "lastfm", "--rate");
            break;
        case OPT_API_URL:
            af_app_override(&app, "lastfm.api_url", optarg, "--api-url");
            uses(&a, "lastfm", "--api-url");
            break;
        case OPT_NO_CRAWL: a.no_crawl = true; uses(&a, "lastfm", "--no-crawl"); break;
        case OPT_NO_TOPTAGS: a.no_toptags = true; uses(&a, "lastfm", "--no-toptags"); break;
        case OPT_ALL_UNTAGGED: a.all_untagged = true; uses(&a, "lastfm", "--all-untagged"); break;
        case OPT_MAX_LOOKUPS:
            a.max_lookups = af_app_parse_count(&app, "--max-lookups", optarg, 0);
            uses(&a, "lastfm", "--max-lookups");
            break;
        case OPT_MIN_SHARE:
            af_app_override(&app, "labels.min_share", optarg, "--min-share");
            uses(&a, "label", "--min-share");
            break;
        case OPT_MIN_TAG_WEIGHT:
            af_app_override(&app, "labels.min_tag_weight", optarg, "--min-tag-weight");
            uses(&a, "label", "--min-tag-weight");
            break;
        case OPT_MAX_PER_GENRE:
            af_app_override(&app, "labels.max_per_genre", optarg, "--max-per-genre");
            uses(&a, "label", "--max-per-genre");
            break;
        case OPT_GENRES: a.genres = optarg; break;
        default:
            af_app_usage_error(&app, "unexpected option");
        }
    }
    if (optind == argc)
        af_app_usage_error(&app, "missing command (dir, msd, lastfm or label)");
    const char *command = argv[optind];
    int n_args = argc - optind - 1;
    if (strcmp(command, "dir") == 0) {
        if (n_args != 1)
            af_app_usage_error(&app, "dir takes one PATH");
    } else if (strcmp(command, "msd") == 0 || strcmp(command, "lastfm") == 0 ||
               strcmp(command, "label") == 0) {
        if (n_args != 0)
            af_app_usage_error(&app, "%s takes no arguments, only options", command);
    } else {
        af_app_usage_error(&app, "unknown command '%s'", command);
    }
    for (int i = 0; i < a.n_used; i++)
        if (strcmp(a.used_by[i], command) != 0)
            af_app_usage_error(&app, "%s belongs to '%s', not '%s'", a.used_name[i], a.used_by[i],
                               command);
    if (strcmp(command, "msd") == 0 && !a.n_lastfm_dirs && !a.unique_tracks && !a.n_tagtraum &&
        !a.magd)
        af_app_usage_error(&app, "msd needs at least one of --lastfm, --unique-tracks, "
                                 "--tagtraum, --magd");

    af_err err = {0};
    if (af_app_start(&app, AF_APP_DB, &err) != 0)
        return af_app_fail(&app, &err);
    struct ingest_ctx ctx;
    ingest_ctx_init(&ctx, &app);
    struct af_taxonomy *tax = NULL;
    int rc = 0;
    long failed_items = 0;
    /* Every command holds its own lock, --exclusive or not: two runs of one command
     * would race where they look before they write.  For dir that is whatever the PATHs:
     * the same recording in two folders (a copy, a link) is found by its audio identity
     * and made a track if none has it, and two runs would both make one (one recording,
     * two tracks, maybe in two splits); a file's track, labels and path artist are
     * synced per track, which files under both PATHs may share; --add-folder-genres
     * appends to one taxonomy file. */
    if (strcmp(command, "dir") == 0) {
        rc = af_db_try_stage_lock(app.db, "ingest-dir", &err);
        if (rc == 0 && !a.no_labels)
            rc = load_dir_taxonomy(&app, &a, &tax, &err);
        if (rc == 0) {
            struct folder_options fo = {.path = argv[optind + 1], .label_map = a.label_map,
                                        .no_labels = a.no_labels,
                                        .artist_from_path = a.artist_from_path,
                                        .taxonomy = tax, .add_folder_genres = a.add_folder_genres};
            rc = ingest_dir(&ctx, &fo, &failed_items, &err);
        }
    } else if (strcmp(command, "msd") == 0) {
        long jobs = af_config_int(app.cfg, "msd.jobs");
        if (jobs == 0)
            jobs = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
        struct msd_options mo = {.lastfm_dirs = a.lastfm_dirs, .n_lastfm_dirs = a.n_lastfm_dirs,
                                 .unique_tracks = a.unique_tracks, .tagtraum = a.tagtraum,
                                 .n_tagtraum = a.n_tagtraum, .magd = a.magd, .jobs = (int)jobs,
                                 .batch = (int)af_config_int(app.cfg, "msd.batch_files")};
        rc = af_db_try_stage_lock(app.db, "ingest-msd", &err);
        if (rc == 0)
            rc = ingest_msd(&ctx, &mo, &err);
        failed_items = ctx.items_failed;
    } else if (strcmp(command, "lastfm") == 0) {
        rc = af_db_try_stage_lock(app.db, "ingest-lastfm", &err);
        if (rc == 0 && a.n_tags == 0 && !a.no_crawl)
            rc = load_taxonomy(&app, &a, &tax, &err);
        if (rc == 0) {
            struct lastfm_crawl_options lo = {.taxonomy = tax, .tags = a.tags, .n_tags = a.n_tags,
                                              .crawl = !a.no_crawl, .toptags = !a.no_toptags,
                                              .all_untagged = a.all_untagged,
                                              .max_lookups = a.max_lookups};
            rc = ingest_lastfm(&ctx, &lo, &failed_items, &err);
        }
    } else {
        rc = af_db_try_stage_lock(app.db, "label", &err);
        if (rc == 0)
            rc = load_taxonomy(&app, &a, &tax, &err);
        if (rc == 0) {
            struct label_options lo = {
                .taxonomy = tax, .min_share = af_config_double(app.cfg, "labels.min_share"),
                .min_tag_weight = af_config_double(app.cfg, "labels.min_tag_weight"),
                .max_per_genre = af_config_int(app.cfg, "labels.max_per_genre")};
            rc = ingest_label(&ctx, &lo, &err);
        }
    }
    af_taxonomy_free(tax);
    if (rc != 0)
        return af_app_fail(&app, &err);
    if (failed_items > 0) {
        char message[128];
        if (strcmp(command, "dir") == 0)
            snprintf(message, sizeof message,
                     "%ld file(s) could not be stored: unreadable, broken links or audio that "
                     "does not decode (see ingest_problems)", failed_items);
        else if (strcmp(command, "msd") == 0)
            snprintf(message, sizeof message,
                     "%ld file(s), line(s) or tag value(s) were not loaded (see ingest_problems)",
                     failed_items);
        else
            snprintf(message, sizeof message,
                     "%ld request(s) failed for good or had values rejected (see "
                     "ingest_problems); a re-run retries the failed ones",
                     failed_items);
        log_error("%s", message);
        return af_app_finish(&app, AF_EXIT_FAILURE, message);
    }
    return af_app_finish(&app, AF_EXIT_OK, NULL);
}

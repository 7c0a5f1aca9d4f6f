// main.cpp — the test runner: doctest (Debian's doctest-dev), plus a closing summary line
// "N passed, N failed, N skipped" that CI reads. Tests skipped at registration (no GPU, no
// ../shared/data) count as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {
struct Counts {
    int total = 0, passing_filters = 0, failed = 0;
} g_counts;

// A listener sees the run's statistics at the end; doctest's own summary stays as it is.
struct SummaryListener : doctest::IReporter {
    explicit SummaryListener(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats& s) override {
        g_counts.total = (int)s.numTestCases;
        g_counts.passing_filters = (int)s.numTestCasesPassingFilters;
        g_counts.failed = (int)s.numTestCasesFailed;
    }
    void test_case_start(const doctest::TestCaseData&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("summary", 1, SummaryListener);
}  // namespace

int main(int argc, char** argv) {
    doctest::Context ctx;
    ctx.applyCommandLine(argc, argv);
    int rc = ctx.run();
    if (ctx.shouldExit()) return rc;
    int passed = g_counts.passing_filters - g_counts.failed;
    int skipped = g_counts.total - g_counts.passing_filters;
    std::printf("%d passed, %d failed, %d skipped\n", passed, g_counts.failed, skipped);
    return rc;
}

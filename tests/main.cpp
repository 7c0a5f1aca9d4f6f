// main.cpp — the test runner: doctest (Debian's doctest-dev), plus closing lines that CI reads:
// each failed test case with why it failed (its first failed assertion, or the exception it threw),
// then "N passed, N failed, N skipped". Doctest prints a failure where it happens, often thousands
// of lines up; CI keeps only the tail of the log. Tests skipped at registration (no GPU, no
// ../shared/data) count as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "helpers.h"  // the tests' temporary folders

namespace {
struct Counts {
    int total = 0, passing_filters = 0, failed = 0;
    std::vector<std::string> failures;  // "file:line: test name: why", one per failed test case
    std::string current, why;           // the running test case, and the first reason it fails
} g_counts;

// A listener: the run's statistics at the end, and why each failed test case failed (its first
// failed assertion or its exception); doctest's own output stays as it is.
struct SummaryListener : doctest::IReporter {
    explicit SummaryListener(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats& s) override {
        g_counts.total = (int)s.numTestCases;
        g_counts.passing_filters = (int)s.numTestCasesPassingFilters;
        g_counts.failed = (int)s.numTestCasesFailed;
    }
    void test_case_start(const doctest::TestCaseData& tc) override {
        g_counts.current = std::string(tc.m_file.c_str()) + ":" + std::to_string(tc.m_line) + ": " + tc.m_name;
        g_counts.why.clear();
    }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats& st) override {
        if (!st.testCaseSuccess)
            g_counts.failures.push_back(g_counts.current + ": " + (g_counts.why.empty() ? "failed" : g_counts.why));
    }
    void test_case_exception(const doctest::TestCaseException& e) override {
        if (g_counts.why.empty()) g_counts.why = std::string(e.is_crash ? "crashed: " : "threw: ") + e.error_string.c_str();
    }
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData& a) override {
        if (!a.m_failed || !g_counts.why.empty()) return;
        g_counts.why = std::string(a.m_file) + ":" + std::to_string(a.m_line) + ": " + a.m_expr;
        if (a.m_threw) g_counts.why += std::string(" threw: ") + a.m_exception.c_str();
        else if (a.m_decomp.size() > 0) g_counts.why += std::string(" is ") + std::string(a.m_decomp.c_str()).substr(0, 300);
    }
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
    // this process's test folders (tests/helpers.h temp_dir): removed after a clean run (a full run
    // leaves about 0.5 GB), kept for a look when something failed
    const std::string suffix = test_temp_suffix();
    if (g_counts.failed == 0) {
        std::error_code ec;
        std::vector<std::filesystem::path> ours;  // (collected first: no removal while iterating)
        for (const auto& e : std::filesystem::directory_iterator(kTestTempParent, ec)) {
            const std::string name = e.path().filename().string();
            if (name.rfind(kTestTempPrefix, 0) == 0 && name.size() > suffix.size() &&
                name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
                ours.push_back(e.path());
        }
        for (const auto& p : ours) std::filesystem::remove_all(p, ec);
    } else {
        std::printf("the tests' files are kept in %s/%s*%s\n", kTestTempParent.c_str(), kTestTempPrefix.c_str(), suffix.c_str());
    }
    for (const std::string& f : g_counts.failures) std::printf("FAILED %s\n", f.c_str());
    std::printf("%d passed, %d failed, %d skipped\n", passed, g_counts.failed, skipped);
    return rc;
}

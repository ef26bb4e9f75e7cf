package tdsuite

// Commits of github.com/bazel-contrib/target-determinator-testdata, by the
// names target-determinator's Tests.java gives them (class Commits; every
// one is tagged v1/* in the testdata repository).
var Commits = map[string]string{
	"NO_TARGETS":                                            "d2862de5e63c8be0866056e6307049c159fb9e47",
	"ONE_TEST":                                              "65dfed228e75a7f4ad361fe65512a1e58ef83b1c",
	"ONE_TEST_BAZEL7_0_0":                                   "30dfd560934f45b8af30601f9d4efe1d5726de5c",
	"TWO_TESTS":                                             "bd1f7781e0d5ee66f3235a1adb8f656d5ea35c2d",
	"HAS_JVM_FLAGS":                                         "50609b7d1260b449ceed57718165981986880d97",
	"EXPLICIT_DEFAULT_VALUE":                                "34213eb339cbb5d1544c83c1aa8c19528c147e0d",
	"TWO_NATIVE_TESTS_BAZEL5_4_0":                           "97637aedbfdf0be9c9d440c56ddc10c842fd9e4a",
	"TWO_NATIVE_TESTS_BAZEL6_0_0":                           "e82404bbedebb800fed8053dfc4f2ebdbcdebcd6",
	"MODIFIED_TEST_SRC":                                     "4a0e589ac8d0d33e8e6109b07d0d60a833261eb3",
	"TWO_LANGUAGES_OF_TESTS":                                "805a14f65edd9e3d42b6ec8524397a269065df49",
	"BAZELRC_TEST_ENV":                                      "9afe362266b9a7cd0d9dd63d16bdf9849db71199",
	"BAZELRC_AFFECTING_JAVA":                                "b1f9504dcba4e0fdc2cf344048307fdd7ac9baec",
	"SIMPLE_TARGETS_BAZEL5_4_0":                             "7cc16e4080aa7b20fa80c2e4e1dacb353ef09275",
	"SIMPLE_TARGETS_BAZEL6_0_0":                             "7efcdd39046bd3d0fdd9c9ab34259ce8894c5cfb",
	"ADD_OPTIONAL_PRESENT_EMPTY_BAZELRC":                    "50f6d42a9fa62760ec0e2bb22a51a5e68ed87813",
	"SIMPLE_JAVA_LIBRARY_RULE":                              "3ced8e757bbdb853553c62754ad68bce3be9033f",
	"SIMPLE_JAVA_LIBRARY_TARGETS":                           "a96d8a14615e972f6a833ba70bb0a9a806e781e0",
	"SIMPLE_JAVA_LIBRARY_AND_JAVA_TESTS":                    "a82f3ba70787617a78c60c2c460bf954c30be4a0",
	"CHANGE_TRANSITIVE_FILE":                                "e93ab7f1081c2d25b54e325f402875230cb37bd7",
	"CHANGE_TRANSITIVE_FILE_BAZEL4_0_0":                     "c90dce5b2b6c888ba08b8cdac5eb60b031ff447f",
	"TWO_LANGUAGES_OPTIONAL_MISSING_TRY_IMPORT":             "69ed4974b6cccb990415537ffe19cc59c9b22306",
	"TWO_LANGUAGES_OPTIONAL_PRESENT_BAZELRC_AFFECTING_JAVA": "b92b6f07812f6d440c515280d344b491614f3c6b",
	"TWO_LANGUAGES_NOOP_IMPORTED_BAZELRC":                   "ebecc480402cf271f258afaa533cf36a305145b8",
	"TWO_LANGUAGES_IMPORTED_BAZELRC_AFFECTING_JAVA":         "5f8a5eafa64838d18e66c3a2977fd72c9a81f7f5",
	"JAVA_TESTS_AND_SIMPLE_JAVA_RULES":                      "92d3c3c260a7c856b59e33df40f55dcfa40f04f6",
	"DEP_ON_STARLARK_TARGET":                                "af5c807d6254150c82a33f36fce21c5ced4f50ff",
	"CHANGE_STARLARK_RULE_IMPLEMENTATION":                   "f9ef8e3ad134d42b4d7391e8f02179176971a47d",
	"NOOP_REFACTOR_STARLARK_RULE_IMPLEMENTATION":            "8aa249993b0263ea4adf83d6b0cd851b711baf56",
	"RULES_IN_EXTERNAL_REPO":                                "41a8a5272e98f8feb26f73327a87f06ca19404a1",
	"NOOP_REFACTOR_IN_WORKSPACE_FILE":                       "f4325420d0b011a841a60a2c612ef4997aa5359b",
	"ADD_SIMPLE_PACKAGE_RULE":                               "52609340c87c6cee9d6e3ac26564a46ff9a6c17a",
	"REFACTORED_WORKSPACE_INDIRECTLY":                       "b3d8d9c109f1fc003ce5744961dac58773c2c71b",
	"PATHOLOGICAL_RULES_SINGLE_TARGET":                      "d3fa4261ba55826781c33a1e6814de7effa8f48f",
	"PATHOLOGICAL_RULES_TWO_TARGETS":                        "436d3472cd7f3c8a73cb23e0d85e86aa2eac0e0d",
	"PATHOLOGICAL_RULES_THREE_TARGETS":                      "5987e2a10abef4087ae472e6171cda506190ca95",
	"PATHOLOGICAL_RULES_FIVE_TARGETS":                       "8e5e5b4b1ac7eaf02ddafe9f551a1f6eda5b2191",
	"CHANGE_ATTRIBUTES_VIA_INDIRECTION":                     "f4dfccca871e962bd4fa52f1d55e5169192b8343",
	"HAS_GLOBS":                                             "018f7c0b96891ca644a05ae15d8d21be020b4355",
	"CHANGE_GLOBS":                                          "307612ea08fc732e41815c4b24dfbdb47d741955",
	"ADD_BUILD_FILE_INTERFERING_WTH_GLOBS":                  "8fbfba87540b48bb5e4b91a62180d4d5c6d6678e",
	"BAZELRC_INCLUDED_EMPTY":                                "89f1396b3341c038536ab7c17942b0c5a35515bc",
	"JAVA_USED_IN_GENRULE":                                  "b941205e5a12ff6c5ae6305404b7dfe0a2e407c9",
	"BAZELRC_INCLUDED_JAVACOPT":                             "20f1af740abde1eea14af3668d8ffb2102bfcf06",
	"BAZELRC_HOST_JAVACOPT":                                 "23948e3f11a51d3e7dc45c46853ae0a15cac6abf",
	"ADD_INDIRECTION_FOR_SIMPLE_JAVA_LIBRARY":               "c0ef0f9805e65817299eb7a794ed66655c0dd5aa",
	"REDUCE_DEPENDENCY_VISIBILITY":                          "396dae111684b893ec6e04b2f6e86ed603a01082",
	"ONE_TEST_WITH_GITIGNORE":                               "51bf9b729dddf35694019c19b5dbffb36bf83af4",
	"TWO_TESTS_WITH_GITIGNORE":                              "55845a3a08525f2aa66c3d7a2115dad684c46995",
	"SUBMODULE_ADD_TRIVIAL_SUBMODULE":                       "b88ddcfe3da63c8308ce6d3274dd424d2c7b211a",
	"SUBMODULE_ADD_DEPENDENT_ON_SIMPLE_JAVA_LIBRARY":        "4e9b396b3a8030925d7b544cda3f1edbc199810f",
	"SUBMODULE_CHANGE_DIRECTORY":                            "1cef87480c2c1dac74cc9de7470504fbd2b80265",
	"SUBMODULE_DELETE_SUBMODULE":                            "d1b1d8f07f2e99429bafda134282b97588c69b3d",
	"ONE_SH_TEST":                                           "ff7e60d535564a0695a5bf9ed1774bacc480bf50",
	"SH_TEST_NOT_EXECUTABLE":                                "6452291f3dcea1a5cdb332463308b70325a833e0",
	"INCOMPATIBLE_TARGET":                                   "69b4567d904cad46a584901c82c2959be89ae458",
	"INCOMPATIBLE_TARGET_BAZEL7_0_0":                        "d2dbc66ed32cb0e95009d2a5d4ce76f3374ddb7d",
	"SELECT_TARGET":                                         "7562088a92cdb20cccb99b996c1c147b0773e60a",
	"CHANGED_NONLINUX_SRC":                                  "28310014a760aae84e96254e04337a99bf6b39ea",
	"CHANGED_LINUX_SRC":                                     "e46148623b7e3e141f2a1ac00d708db1e65f9397",
	"CHANGED_NONLINUX_DEP":                                  "a8c04169ef46095d040048610b24adbea4027f32",
	"CHANGED_LINUX_DEP":                                     "c5a9f0ad1fc7fc9c3dd31fd904fcc97a55bd2fce",
	"ALIAS_ADD_TARGET":                                      "194478bcdfb3f8c40b3dd02d06d2be1cd335b83b",
	"ALIAS_CHANGE_ACTUAL":                                   "ec19104291a3ea7cb61fb54ecdeaee73127bf284",
	"ALIAS_CHANGE_TARGET_THROUGH_ALIAS":                     "3d9788053a2eed1a2f3beb05070872526ebdf76e",
	"ALIAS_ADD_TARGET_TO_FILE":                              "7be0f96f26742daec661c2ebfbb08b88b6355a3b",
	"ALIAS_CHANGE_TARGET_THROUGH_ALIAS_TO_FILE":             "68fbd3661f3626e2df6a55b079444adbf76b5a3b",
}

// Step is one doTest call of a test method: check out After (with its
// submodules), apply Setup to the work tree, and compare Before with it.
type Step struct {
	Before, After string   // Commits names, or a revision ("HEAD^", a branch)
	Want          []string // expected labels (short forms allowed: //a/b means //a/b:b)
	Forbidden     []string
	// Setup edits the work tree after the checkout: "chmod PATH MODE"
	// (octal), "touch PATH", "branch NAME" (git checkout -b NAME).
	Setup []string
}

// Case is one test method of Tests.java or
// TargetDeterminatorSpecificFlagsTest (those that apply to any target
// determinator), transcribed.
type Case struct {
	Name  string
	Steps []Step
	// AllowOverBuild: the suite itself (Tests.java, or the
	// target-determinator subclass) accepts extra labels here; Why says
	// why, in its words.
	AllowOverBuild bool
	Why            string
	// Skip, when set, says why the case cannot run here.
	Skip string
}

const (
	javaTrim  = "configuration calculation does not trim Java fragments from sh_test configuration (target-determinator's words)"
	hostCfg   = "host and target dependencies are not told apart (target-determinator: cquery does not factor configuration into ruleInputs)"
	ruleImpl  = "rule implementation attr factors in hashes of entire transitively loaded bzl files (target-determinator's words)"
	exampleT  = "//java/example:ExampleTest"
	otherT    = "//java/example:OtherExampleTest"
	simple    = "//java/example/simple:simple"
	simpleDep = "//java/example/simple:simple_dep"
)

// Cases is the suite, in Tests.java's order, then the applicable cases of
// TargetDeterminatorSpecificFlagsTest (target pattern //...).
var Cases = []Case{
	{Name: "zeroToOneTarget_native", Steps: []Step{{Before: "NO_TARGETS", After: "ONE_TEST", Want: []string{exampleT}}}},
	{Name: "addedTarget_native", Steps: []Step{{Before: "ONE_TEST", After: "TWO_TESTS", Want: []string{otherT}}}},
	{Name: "deletedTarget_native", Steps: []Step{{Before: "TWO_TESTS", After: "ONE_TEST", Forbidden: []string{otherT}}}},
	{Name: "ruleAffectingAttributeChange_native", Steps: []Step{{Before: "TWO_TESTS", After: "HAS_JVM_FLAGS", Want: []string{exampleT}}}},
	{Name: "explicitlySpecifyingDefaultValueDoesNotTrigger_native", Steps: []Step{{Before: "TWO_TESTS", After: "EXPLICIT_DEFAULT_VALUE"}}},
	{Name: "changingUnimportantPermissionDoesNotTrigger_native", Steps: []Step{
		{Before: "TWO_TESTS", After: "EXPLICIT_DEFAULT_VALUE", Setup: []string{"chmod java/example/ExampleTest.java 0444"}},
		{Before: "TWO_TESTS", After: "EXPLICIT_DEFAULT_VALUE", Setup: []string{"chmod java/example/ExampleTest.java 0666"}},
	}},
	{Name: "changingImportantPermissionDoesTriggers_native", Steps: []Step{
		{Before: "TWO_TESTS", After: "EXPLICIT_DEFAULT_VALUE", Setup: []string{"chmod java/example/ExampleTest.java 0744"}, Want: []string{exampleT}},
	}},
	{Name: "changedBazelMajorVersion_native", Steps: []Step{{Before: "TWO_TESTS", After: "TWO_NATIVE_TESTS_BAZEL5_4_0", Want: []string{exampleT, otherT}}}},
	{Name: "changedBazelPatchVersion_native", Steps: []Step{{Before: "TWO_TESTS", After: "TWO_NATIVE_TESTS_BAZEL6_0_0", Want: []string{exampleT, otherT}}}},
	{Name: "changedBazelMajorVersion_starlark", Steps: []Step{{Before: "SIMPLE_JAVA_LIBRARY_TARGETS", After: "SIMPLE_TARGETS_BAZEL5_4_0", Want: []string{simple, simpleDep}}}},
	{Name: "changedBazelPatchVersion_starlark", Steps: []Step{{Before: "SIMPLE_JAVA_LIBRARY_TARGETS", After: "SIMPLE_TARGETS_BAZEL6_0_0", Want: []string{simple, simpleDep}}}},
	{Name: "changedSrc", Steps: []Step{{Before: "TWO_TESTS", After: "MODIFIED_TEST_SRC", Want: []string{exampleT}}}},
	{Name: "changedTransitiveSrc", Steps: []Step{{Before: "SIMPLE_JAVA_LIBRARY_TARGETS", After: "CHANGE_TRANSITIVE_FILE", Want: []string{simple, simpleDep}}}},
	{Name: "changedBazelrcAffectingAllTests", Steps: []Step{{Before: "TWO_LANGUAGES_OF_TESTS", After: "BAZELRC_TEST_ENV", Want: []string{exampleT, otherT, "//sh:sh_test"}}}},
	{Name: "changedBazelrcAffectingSomeTests", AllowOverBuild: true, Why: javaTrim,
		Steps: []Step{{Before: "TWO_LANGUAGES_OF_TESTS", After: "BAZELRC_AFFECTING_JAVA", Want: []string{exampleT, otherT}}}},
	{Name: "emptyTryImportInBazelrc", Steps: []Step{{Before: "TWO_TESTS", After: "ADD_OPTIONAL_PRESENT_EMPTY_BAZELRC"}}},
	{Name: "tryImportMissing", Steps: []Step{{Before: "TWO_LANGUAGES_OF_TESTS", After: "TWO_LANGUAGES_OPTIONAL_MISSING_TRY_IMPORT"}}},
	{Name: "tryImportInBazelrcAffectingJava", AllowOverBuild: true, Why: javaTrim, Steps: []Step{
		{Before: "TWO_LANGUAGES_OPTIONAL_MISSING_TRY_IMPORT", After: "TWO_LANGUAGES_OPTIONAL_PRESENT_BAZELRC_AFFECTING_JAVA", Want: []string{exampleT, otherT}},
		{Before: "TWO_LANGUAGES_OF_TESTS", After: "TWO_LANGUAGES_OPTIONAL_PRESENT_BAZELRC_AFFECTING_JAVA", Want: []string{exampleT, otherT}},
		{Before: "TWO_LANGUAGES_OPTIONAL_PRESENT_BAZELRC_AFFECTING_JAVA", After: "TWO_LANGUAGES_OF_TESTS", Want: []string{exampleT, otherT}},
	}},
	{Name: "importInBazelrcNotAffectingJava", Steps: []Step{{Before: "TWO_LANGUAGES_OF_TESTS", After: "TWO_LANGUAGES_NOOP_IMPORTED_BAZELRC"}}},
	{Name: "importInBazelrcAffectingJava", AllowOverBuild: true, Why: javaTrim,
		Steps: []Step{{Before: "TWO_LANGUAGES_OF_TESTS", After: "TWO_LANGUAGES_IMPORTED_BAZELRC_AFFECTING_JAVA", Want: []string{exampleT, otherT}}}},
	{Name: "addedUnusedStarlarkRulesTriggersNoTargets", Steps: []Step{{Before: "TWO_TESTS", After: "JAVA_TESTS_AND_SIMPLE_JAVA_RULES"}}},
	{Name: "starlarkRulesTrigger", Steps: []Step{{Before: "SIMPLE_JAVA_LIBRARY_RULE", After: "SIMPLE_JAVA_LIBRARY_TARGETS", Want: []string{simple, simpleDep}}}},
	{Name: "addingDepOnStarlarkRulesTrigger", Steps: []Step{{Before: "SIMPLE_JAVA_LIBRARY_AND_JAVA_TESTS", After: "DEP_ON_STARLARK_TARGET", Want: []string{exampleT}}}},
	{Name: "changingStarlarkRuleDefinition", Steps: []Step{{Before: "DEP_ON_STARLARK_TARGET", After: "CHANGE_STARLARK_RULE_IMPLEMENTATION", Want: []string{exampleT, simple, simpleDep}}}},
	{Name: "refactoringStarlarkRuleIsNoOp", AllowOverBuild: true, Why: ruleImpl,
		Steps: []Step{{Before: "CHANGE_STARLARK_RULE_IMPLEMENTATION", After: "NOOP_REFACTOR_STARLARK_RULE_IMPLEMENTATION"}}},
	{Name: "movingStarlarkRuleToExternalRepoIsNoOp", Steps: []Step{{Before: "NOOP_REFACTOR_STARLARK_RULE_IMPLEMENTATION", After: "RULES_IN_EXTERNAL_REPO"}}},
	{Name: "refactoringWorkspaceFileInNoOp", Steps: []Step{{Before: "RULES_IN_EXTERNAL_REPO", After: "NOOP_REFACTOR_IN_WORKSPACE_FILE"}}},
	{Name: "modifyingRuleViaWorkspaceFile", Steps: []Step{{Before: "NOOP_REFACTOR_IN_WORKSPACE_FILE", After: "ADD_SIMPLE_PACKAGE_RULE", Want: []string{"//java/example/simple:simple_srcs"}}}},
	{Name: "unconsumedIndirectWorkspaceChangeIsNoOp", Steps: []Step{{Before: "ADD_SIMPLE_PACKAGE_RULE", After: "REFACTORED_WORKSPACE_INDIRECTLY"}}},
	{Name: "changingMacroExpansionBasedOnFileExistence", Steps: []Step{
		{Before: "PATHOLOGICAL_RULES_SINGLE_TARGET", After: "PATHOLOGICAL_RULES_TWO_TARGETS", Want: []string{"//weird:length_of_compute_lengths.0", "//weird:length_of_compute_lengths.2"}},
		{Before: "PATHOLOGICAL_RULES_TWO_TARGETS", After: "PATHOLOGICAL_RULES_SINGLE_TARGET", Want: []string{"//weird:length_of_compute_lengths.0"}},
		{Before: "PATHOLOGICAL_RULES_SINGLE_TARGET", After: "PATHOLOGICAL_RULES_THREE_TARGETS", Want: []string{"//weird:length_of_compute_lengths.2", "//weird:length_of_compute_lengths.3"}},
		{Before: "PATHOLOGICAL_RULES_SINGLE_TARGET", After: "PATHOLOGICAL_RULES_FIVE_TARGETS", Want: []string{"//weird:pathological"}},
	}},
	{Name: "changingFileLoadedByWorkspaceTriggersTargets", Steps: []Step{{Before: "ADD_SIMPLE_PACKAGE_RULE", After: "CHANGE_ATTRIBUTES_VIA_INDIRECTION", Want: []string{exampleT, simple, simpleDep}}}},
	{Name: "removingGlobbedFileTriggers", Steps: []Step{{Before: "HAS_GLOBS", After: "CHANGE_GLOBS", Want: []string{"//globs:root"}}}},
	{Name: "removingBuildFileRetriggersGlobs", Steps: []Step{{Before: "ADD_BUILD_FILE_INTERFERING_WTH_GLOBS", After: "CHANGE_GLOBS", Want: []string{"//globs:root"}}}},
	{Name: "addingBuildFileRetriggersGlobs", Steps: []Step{{Before: "CHANGE_GLOBS", After: "ADD_BUILD_FILE_INTERFERING_WTH_GLOBS", Want: []string{"//globs:root"}}}},
	{Name: "addingTargetUsedInHostConfiguration", AllowOverBuild: true, Why: hostCfg,
		Steps: []Step{{Before: "BAZELRC_INCLUDED_EMPTY", After: "JAVA_USED_IN_GENRULE", Want: []string{"//configurations:jbin", "//configurations:run_jbin"}}}},
	{Name: "changingHostConfigurationDoesNotAffectTargetConfiguration", AllowOverBuild: true, Why: hostCfg,
		Steps: []Step{{Before: "JAVA_USED_IN_GENRULE", After: "BAZELRC_HOST_JAVACOPT", Want: []string{"//configurations:run_jbin"}}}},
	{Name: "changingTargetConfigurationDoesNotAffectHostConfiguration", AllowOverBuild: true, Why: hostCfg,
		Steps: []Step{{Before: "JAVA_USED_IN_GENRULE", After: "BAZELRC_INCLUDED_JAVACOPT", Want: []string{"//configurations:jbin", exampleT}}}},
	{Name: "reducingVisibilityOnDependencyAffectsTarget", Steps: []Step{{Before: "ADD_INDIRECTION_FOR_SIMPLE_JAVA_LIBRARY", After: "REDUCE_DEPENDENCY_VISIBILITY", Want: []string{exampleT, "//java/example/simple"}}}},
	{Name: "succeedForUncleanRepository", Steps: []Step{{Before: "TWO_TESTS", After: "HAS_JVM_FLAGS", Setup: []string{"touch untracked-file"}, Want: []string{exampleT}}}},
	{Name: "succeedForUncleanIgnoredFiles", Steps: []Step{{Before: "ONE_TEST", After: "TWO_TESTS_WITH_GITIGNORE", Setup: []string{"touch ignored-file"}, Want: []string{otherT}}}},
	{Name: "succeedForUncleanSubmodule", Steps: []Step{{Before: "SUBMODULE_ADD_DEPENDENT_ON_SIMPLE_JAVA_LIBRARY", After: "SUBMODULE_CHANGE_DIRECTORY",
		Setup: []string{"touch demo-submodule-2/untracked-file"}, Want: []string{"//demo-submodule-2:submodule_simple"}}}},
	{Name: "addTrivialSubmodule", Steps: []Step{{Before: "SIMPLE_JAVA_LIBRARY_TARGETS", After: "SUBMODULE_ADD_TRIVIAL_SUBMODULE"}}},
	{Name: "addDependentTargetInSubmodule", Steps: []Step{{Before: "SUBMODULE_ADD_TRIVIAL_SUBMODULE", After: "SUBMODULE_ADD_DEPENDENT_ON_SIMPLE_JAVA_LIBRARY", Want: []string{"//demo-submodule:submodule_simple"}}}},
	{Name: "changeSubmodulePath", Steps: []Step{{Before: "SUBMODULE_ADD_DEPENDENT_ON_SIMPLE_JAVA_LIBRARY", After: "SUBMODULE_CHANGE_DIRECTORY", Want: []string{"//demo-submodule-2:submodule_simple"}}}},
	{Name: "deleteSubmodule", Steps: []Step{{Before: "SUBMODULE_CHANGE_DIRECTORY", After: "SUBMODULE_DELETE_SUBMODULE"}}},
	{Name: "testRelativeRevisions", Steps: []Step{{Before: "HEAD^", After: "TWO_TESTS", Want: []string{otherT}}}},
	{Name: "testBranchRevision", Steps: []Step{{Before: "ONE_TEST", After: "TWO_TESTS", Setup: []string{"branch two-tests-branch"}, Want: []string{otherT}}}},
	{Name: "testMinimumSupportedBazelVersion", Steps: []Step{{Before: "SIMPLE_JAVA_LIBRARY_TARGETS", After: "CHANGE_TRANSITIVE_FILE_BAZEL4_0_0", Want: []string{simple, simpleDep}}}},
	{Name: "testChmodFile", Steps: []Step{{Before: "ONE_SH_TEST", After: "SH_TEST_NOT_EXECUTABLE", Want: []string{"//sh:sh_test"}}}},
	{Name: "incompatibleTargetsAreFiltered", Steps: []Step{{Before: "ONE_TEST", After: "INCOMPATIBLE_TARGET",
		Want: []string{"//java/example:CompatibleTest"}, Forbidden: []string{"//java/example:IncompatibleTest"}}}},
	{Name: "incompatibleTargetsAreFiltered_bazelIssue21010", Steps: []Step{{Before: "ONE_TEST_BAZEL7_0_0", After: "INCOMPATIBLE_TARGET_BAZEL7_0_0",
		Want: []string{"//java/example:CompatibleTest"}, Forbidden: []string{"//java/example:IncompatibleTest"}}}},
	// Linux: the Linux branches of the selects are the ones that count.
	{Name: "platformSpecificSrcChanged", Steps: []Step{{Before: "SELECT_TARGET", After: "CHANGED_LINUX_SRC", Want: []string{simple}}}},
	{Name: "ignoredPlatformSpecificSrcChanged", Steps: []Step{{Before: "SELECT_TARGET", After: "CHANGED_NONLINUX_SRC"}}},
	{Name: "platformSpecificDepChanged", Steps: []Step{{Before: "SELECT_TARGET", After: "CHANGED_LINUX_DEP", Want: []string{simple, "//java/example/simple:simple_dep_linux"}}}},
	{Name: "ignoredPlatformSpecificDepChanged", Steps: []Step{{Before: "SELECT_TARGET", After: "CHANGED_NONLINUX_DEP", Want: []string{simpleDep}}}},
	{Name: "aliasTargetIsDetectedIfActualTargetChanged", Steps: []Step{{Before: "ALIAS_ADD_TARGET", After: "ALIAS_CHANGE_TARGET_THROUGH_ALIAS", Want: []string{exampleT, "//java/example:example_test"}}}},
	{Name: "aliasTargetIsDetectedIfActualFileChanged", Steps: []Step{{Before: "ALIAS_ADD_TARGET_TO_FILE", After: "ALIAS_CHANGE_TARGET_THROUGH_ALIAS_TO_FILE", Want: []string{exampleT, "//java/example:ExampleTestSource"}}}},
	{Name: "aliasTargetIsDetectedIfActualLabelChanged", Steps: []Step{{Before: "ALIAS_ADD_TARGET", After: "ALIAS_CHANGE_ACTUAL", Want: []string{"//java/example:example_test"}}}},

	// TargetDeterminatorSpecificFlagsTest, target pattern //... (the
	// other cases test flags of target-determinator's own).
	{Name: "flags/targetPatternFlagAll", Steps: []Step{{Before: "TWO_LANGUAGES_OF_TESTS", After: "BAZELRC_TEST_ENV", Want: []string{exampleT, otherT, "//sh:sh_test"}}}},
	{Name: "flags/ignoresIgnoredFile", Skip: "ONE_TEST_WITH_GITIGNORE (51bf9b7) is not in the testdata repository (untagged)", Steps: []Step{{Before: "ONE_TEST_WITH_GITIGNORE", After: "TWO_TESTS_WITH_GITIGNORE", Setup: []string{"touch ignored-file"}, Want: []string{otherT}}}},
	{Name: "flags/targetPatternFlagQueryBeforeWasError", Steps: []Step{{Before: "NO_TARGETS", After: "ONE_TEST", Want: []string{exampleT}}}},
}

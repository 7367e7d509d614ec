"""The recorded study: the paper's tables as data, provenance, study plan per profile, rendering."""
from .attack_strength import full_autoattack_checks, full_autoattack_frame, reattack_frame, reattack_robust_points
from .histories import calibrated_comparisons, calibrated_frame, calibrated_histories, norm_shares_frame
from .paper_tables import PAPER_TABLES, load_paper_table
from .profiles import SIZES, StudySize, study_size
from .provenance import machine, package_versions, provenance
from .record_schema import RecordError, check_record, read_record, write_record
from .study import (GROUPS, Unit, UnitsSkipped, load_result, new_model, plan, run_study, run_unit, study_data, study_threats,
                    unit_from_name, weights_digest)
from .seeds import compare_schemes, compare_with, joint_summary, mean_std_table, seed_summary
from .tables import (SCHEME_LABELS, StudyTables, benchmark_record, complete_revision, coverage, group_revision, l2_curves,
                     provenance_note, recorded_profile, results_frame, revision_summary, sampling_history, study_tables,
                     unit_label)

__all__ = ["load_paper_table", "PAPER_TABLES", "StudySize", "study_size", "SIZES", "provenance", "package_versions",
           "machine", "Unit", "plan", "GROUPS", "run_unit", "run_study", "UnitsSkipped", "load_result", "study_data", "study_threats",
           "new_model", "results_frame", "provenance_note", "sampling_history", "SCHEME_LABELS", "l2_curves",
           "benchmark_record", "recorded_profile", "coverage", "unit_from_name", "weights_digest", "reattack_robust_points",
           "reattack_frame", "full_autoattack_frame", "group_revision", "full_autoattack_checks", "seed_summary",
           "mean_std_table", "compare_schemes", "compare_with", "joint_summary", "StudyTables", "complete_revision", "study_tables",
           "revision_summary", "unit_label", "norm_shares_frame", "calibrated_histories", "calibrated_frame", "calibrated_comparisons",
           "RecordError", "check_record", "read_record", "write_record"]

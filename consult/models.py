"""Every table, imported in one place so metadata and migrations see them all."""

from consult.accounts.models import (
    AccountLink,
    IdentityLink,
    RecoveryCode,
    Role,
    User,
    UserSession,
    VerificationLevel,
)
from consult.answers.models import (
    Answer,
    AnswerCoverage,
    AnswerScope,
    AnswerState,
    ContributionOutcome,
)
from consult.audit.models import AuditEvent
from consult.bills.models import BillVersion, Provision, ProvisionKind
from consult.consultations.models import (
    Consultation,
    ConsultationKind,
    ConsultationPhase,
    Phase,
)
from consult.contributions import vote_counters
from consult.contributions.models import (
    Contribution,
    ContributionKind,
    ImportedArticleVotes,
    Stance,
    Visibility,
    Vote,
    VoteValue,
)
from consult.db import Base
from consult.legal.models import LegalPage
from consult.moderation.models import ModerationEvent, Report, Suspension
from consult.notifications.models import AccountNotice, Notification, NotificationStatus
from consult.organisations.models import Organisation, OrganisationMember
from consult.protection.models import LoginFailure, SpentFormToken
from consult.questionnaires.models import (
    Question,
    QuestionAnswer,
    QuestionKind,
    QuestionnaireResponse,
)
from consult.revisions.models import (
    ArticleRedline,
    ContributionAnchor,
    VersionChange,
    VersionDraft,
)
from consult.stamps import PageStamp
from consult.synthesis.models import (
    ClusterEdit,
    Embedding,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
    SynthesisOpinions,
    SynthesisOpinionTarget,
    SynthesisRun,
)

# vote_counters: its triggers join a schema built from these models.
__all__ = [
    "AccountLink",
    "AccountNotice",
    "Answer",
    "AnswerCoverage",
    "AnswerScope",
    "AnswerState",
    "ArticleRedline",
    "AuditEvent",
    "Base",
    "BillVersion",
    "ClusterEdit",
    "Consultation",
    "ConsultationKind",
    "ConsultationPhase",
    "Contribution",
    "ContributionAnchor",
    "ContributionKind",
    "ContributionOutcome",
    "Embedding",
    "IdentityLink",
    "ImportedArticleVotes",
    "LegalPage",
    "LoginFailure",
    "ModerationEvent",
    "Notification",
    "NotificationStatus",
    "Organisation",
    "OrganisationMember",
    "PageStamp",
    "Phase",
    "Provision",
    "ProvisionKind",
    "Question",
    "QuestionAnswer",
    "QuestionKind",
    "QuestionnaireResponse",
    "RecoveryCode",
    "Report",
    "Role",
    "SpentFormToken",
    "Stance",
    "Suspension",
    "SynthesisCampaign",
    "SynthesisCampaignMember",
    "SynthesisCluster",
    "SynthesisMembership",
    "SynthesisOpinionTarget",
    "SynthesisOpinions",
    "SynthesisRun",
    "User",
    "UserSession",
    "VerificationLevel",
    "VersionChange",
    "VersionDraft",
    "Visibility",
    "Vote",
    "VoteValue",
    "vote_counters",
]

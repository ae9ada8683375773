"""The folder tree: each account with its folders, special-use first, with unread counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tuimail.mail.sanitize import sanitize_line
from tuimail.store.records import FolderState
from tuimail.sync.interface import AccountFolders
from tuimail.ui import keys
from tuimail.ui.all_accounts import virtual_folders
from tuimail.ui.messages import FolderChosen

_ROLE_NAMES = {"inbox": "Inbox"}


@dataclass(frozen=True, slots=True)
class FolderRef:
    """What a tree node stands for: an account, or one of its folders (a virtual folder: no
    account)."""

    account: str
    folder: FolderState | None = None


def folder_label(folder: FolderState, leaf_name: str) -> Text:
    """A folder's name and unread count; names come from servers, so they are sanitised."""
    name = _ROLE_NAMES.get(folder.role or "", sanitize_line(leaf_name))
    if folder.unread_count:
        return Text.assemble((name, "bold"), " ", (str(folder.unread_count), "bold"))
    return Text(name)


class FolderTree(Tree[FolderRef]):
    """Accounts and folders; Enter on a folder opens it."""

    KEY_SCOPE: ClassVar[keys.Scope] = "folders"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings("folders"))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("accounts"), id=id)
        self.show_root = False
        self.auto_expand = False
        self._folder_nodes: dict[int, TreeNode[FolderRef]] = {}
        self._shape: tuple[tuple[str, tuple[tuple[int, str], ...]], ...] = ()

    def set_accounts(self, accounts: list[AccountFolders]) -> None:
        """Show these accounts and folders; only the labels change when the folders did not."""
        virtual = virtual_folders(accounts)
        shape = (
            ("", tuple((v.id, v.name) for v in virtual)),
            *(
                (account.name, tuple((f.id, f.name) for f in account.folders))
                for account in accounts
            ),
        )
        if shape != self._shape:
            self._rebuild(accounts)
            self._shape = shape
            return
        for folder in virtual:  # their counts follow the accounts' folders
            node = self._folder_nodes.get(folder.id)
            if node is not None:
                node.data = FolderRef("", folder)
                node.set_label(folder_label(folder, folder.name))
        for account in accounts:
            for folder in account.folders:
                node = self._folder_nodes.get(folder.id)
                if node is not None:
                    node.data = FolderRef(account.name, folder)
                    node.set_label(folder_label(folder, _leaf(folder)))

    def _rebuild(self, accounts: list[AccountFolders]) -> None:
        current = self.cursor_node.data if self.cursor_node is not None else None
        keep = current.folder.id if current is not None and current.folder is not None else None
        self.clear()
        self._folder_nodes = {}
        for folder in virtual_folders(accounts):  # All inboxes, All unread, All flagged: on top
            self._folder_nodes[folder.id] = self.root.add_leaf(
                folder_label(folder, folder.name), FolderRef("", folder)
            )
        for account in accounts:
            top = self.root.add(
                Text(sanitize_line(account.name), style="bold"),
                FolderRef(account.name),
                expand=True,
            )
            if not account.folders:
                top.add_leaf(Text("(not synced yet)", style="italic"), FolderRef(account.name))
            parents: dict[str, TreeNode[FolderRef]] = {}
            for folder in account.folders:
                parent = self._parent_node(top, parents, folder, account.name)
                node = parent.add(
                    folder_label(folder, _leaf(folder)),
                    FolderRef(account.name, folder),
                    expand=True,
                    allow_expand=False,
                )
                parents[folder.name] = node
                self._folder_nodes[folder.id] = node
        if keep is not None:
            self.select_folder(keep)

    def _parent_node(
        self,
        top: TreeNode[FolderRef],
        parents: dict[str, TreeNode[FolderRef]],
        folder: FolderState,
        account: str,
    ) -> TreeNode[FolderRef]:
        """The node a nested folder (``Work/Projects``) hangs under, made if it is missing."""
        if not folder.delimiter or folder.delimiter not in folder.name:
            return top
        path = folder.name.split(folder.delimiter)[:-1]
        node = top
        for depth in range(1, len(path) + 1):
            name = folder.delimiter.join(path[:depth])
            found = parents.get(name)
            if found is None:
                found = node.add(
                    Text(sanitize_line(path[depth - 1])), FolderRef(account), expand=True
                )
                parents[name] = found
            found.allow_expand = True
            node = found
        return node

    def select_folder(self, folder_id: int) -> None:
        """Put the cursor on a folder."""
        node = self._folder_nodes.get(folder_id)
        # A node added since the last paint has no line number until the lines are built
        # (reading last_line builds them); without it the cursor would go to line -1.
        if node is not None and self.last_line >= 0:
            self.move_cursor(node)

    def folders(self, account: str) -> list[FolderState]:
        """The folders of one account as the tree knows them."""
        return [
            node.data.folder
            for node in self._folder_nodes.values()
            if node.data is not None
            and node.data.folder is not None
            and node.data.account == account
        ]

    def action_first(self) -> None:
        """The first line."""
        self.action_scroll_home()

    def action_last(self) -> None:
        """The last line."""
        self.action_scroll_end()

    def action_open_folder(self) -> None:
        """Open the folder under the cursor (an account line folds or unfolds)."""
        node = self.cursor_node
        if node is None or node.data is None:
            return
        if node.data.folder is None:
            node.toggle()
            return
        self.post_message(FolderChosen(node.data.folder.id))

    def on_tree_node_selected(self, event: Tree.NodeSelected[FolderRef]) -> None:
        """A click on a folder opens it like Enter."""
        event.stop()
        if event.node.data is not None and event.node.data.folder is not None:
            self.post_message(FolderChosen(event.node.data.folder.id))


def _leaf(folder: FolderState) -> str:
    if folder.delimiter and folder.delimiter in folder.name:
        return folder.name.rsplit(folder.delimiter, 1)[1]
    return folder.name

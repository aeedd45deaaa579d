import { createElement } from 'lwc';
import TriageCase from 'c/triageCase';
import generate from '@salesforce/apex/TriageCaseController.generate';
import { getRecord } from 'lightning/uiRecordApi';

// Imperative Apex calls become Jest mock functions: no org and no Apex class are needed.
jest.mock('@salesforce/apex/TriageCaseController.generate', () => ({ default: jest.fn() }), { virtual: true });

const ANSWER = {
    text: 'Sample answer',
    generationId: 'generation-1',
    toxicityDetected: false,
    toxicityScore: 0,
    toxicityScores: {},
    outputs: { category: 'Problem', priority: 'High', summary: 'Sample Summary' }
};

// What the controller receives for the values fillInputs enters.
const EXPECTED_INPUTS = {
    subject: 'Sample Case Subject',
    description: 'Sample Case Description'
};

function render(properties = {}) {
    const element = createElement('c-triage-case', { is: TriageCase });
    Object.assign(element, properties);
    document.body.appendChild(element);
    return element;
}

function control(element, name) {
    const controls = element.shadowRoot.querySelectorAll('lightning-input, lightning-textarea, lightning-radio-group');
    return [...controls].find((found) => found.name === name);
}

function enter(element, name, property, value) {
    const target = control(element, name);
    target[property] = value;
    target.dispatchEvent(new CustomEvent('change'));
}

function button(element, label) {
    return [...element.shadowRoot.querySelectorAll('lightning-button')].find((found) => found.label === label);
}

function shown(element, selector) {
    return element.shadowRoot.querySelector(selector);
}

function fillInputs(element) {
    enter(element, 'subject', 'value', 'Sample Case Subject');
    enter(element, 'description', 'value', 'Sample Case Description');
}

// Lets the mocked Apex promises settle and the component render again.
function flushPromises() {
    return new Promise((resolve) => setTimeout(resolve, 0));
}

async function send(element) {
    fillInputs(element);
    await flushPromises();
    button(element, 'Generate').click();
    await flushPromises();
}

describe('c-triage-case', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.resetAllMocks();
    });

    it('shows a labelled control for each input and a live region for the answer', () => {
        const element = render();

        expect(shown(element, 'lightning-card').title).toBe('Triage Case');
        expect(control(element, 'subject').label).toBe('Case Subject');
        expect(control(element, 'subject').required).toBe(true);
        expect(control(element, 'description').label).toBe('Case Description');
        expect(shown(element, '[aria-live="polite"]')).not.toBeNull();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('waits for the required inputs before it can send', async () => {
        const element = render();

        expect(button(element, 'Generate').disabled).toBe(true);
        fillInputs(element);
        await flushPromises();
        expect(button(element, 'Generate').disabled).toBe(false);
    });

    it('shows a spinner while it waits for the controller', async () => {
        let finish;
        generate.mockReturnValue(new Promise((resolve) => {
            finish = resolve;
        }));
        const element = render();

        await send(element);
        expect(shown(element, 'lightning-spinner')).not.toBeNull();
        finish(ANSWER);
        await flushPromises();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('sends the inputs and shows the answer', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);

        expect(generate).toHaveBeenCalledWith(EXPECTED_INPUTS);
        expect(shown(element, '.answer').value).toBe('Sample answer');
        expect(shown(element, '.toxicity')).toBeNull();
        expect(shown(element, '.error')).toBeNull();
    });

    it('flags an answer the Trust Layer found toxic', async () => {
        generate.mockResolvedValue({ ...ANSWER, toxicityDetected: true, toxicityScore: 0.91 });
        const element = render();

        await send(element);

        expect(shown(element, '.toxicity')).not.toBeNull();
    });

    it('shows each output of the answer with its label', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);

        const shownOutputs = [...element.shadowRoot.querySelectorAll('.outputs div')].map((row) => [
            row.querySelector('dt').textContent,
            row.querySelector('dd').textContent
        ]);
        expect(shownOutputs).toEqual([
            ['Category', String(ANSWER.outputs.category)],
            ['Priority', String(ANSWER.outputs.priority)],
            ['Summary', String(ANSWER.outputs.summary)]
        ]);
    });

    it('shows the message of a failed call', async () => {
        generate.mockRejectedValue({ body: { message: 'The Models API is not available.' } });
        const element = render();

        await send(element);

        expect(shown(element, '.error').textContent).toBe('The Models API is not available.');
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('refuses Case Subject over 4000 characters with a message, before any call', async () => {
        const element = render();
        fillInputs(element);
        enter(element, 'subject', 'value', 'x'.repeat(4001));
        await flushPromises();

        button(element, 'Generate').click();
        await flushPromises();

        expect(generate).not.toHaveBeenCalled();
        expect(shown(element, '.error').textContent).toBe('Case Subject is too long: at most 4000 characters');
        expect(control(element, 'subject').maxLength).toBe('4000');
    });

    it('fills the inputs the user left blank from the fields of the page record', async () => {
        const element = render({ recordId: '500000000000001AAA' });
        enter(element, 'subject', 'value', 'Typed by the user');

        // The test adapter of lightning/uiRecordApi delivers the record the wire would get from the org.
        // eslint-disable-next-line @lwc/lwc/no-unexpected-wire-adapter-usages
        getRecord.emit({
            apiName: 'Case',
            fields: {
                Subject: { value: 'From the record: subject' },
                Description: { value: 'From the record: description' }
            }
        });
        await flushPromises();

        expect(control(element, 'subject').value).toBe('Typed by the user');
        expect(control(element, 'description').value).toBe('From the record: description');
        expect(shown(element, '.record-notice')).toBeNull();
        // Optional fields: a field the user may not read is left out of the record, not an error for all.
        // eslint-disable-next-line @lwc/lwc/no-unexpected-wire-adapter-usages
        expect(getRecord.getLastConfig()).toEqual({ recordId: '500000000000001AAA', optionalFields: ['Case.Subject', 'Case.Description'] });
    });

    it('works for a user who cannot see Case Description: that input stays empty and a message says so', async () => {
        const element = render({ recordId: '500000000000001AAA' });

        // eslint-disable-next-line @lwc/lwc/no-unexpected-wire-adapter-usages
        getRecord.emit({
            apiName: 'Case',
            fields: {
                Subject: { value: 'From the record: subject' }
            }
        });
        await flushPromises();

        expect(control(element, 'subject').value).toBe('From the record: subject');
        expect(control(element, 'description').value).toBeUndefined();
        expect(shown(element, '.record-notice').textContent).toBe('You cannot see Case Description on this record; enter it yourself.');
        expect(shown(element, 'lightning-card')).not.toBeNull();
    });

    it('shows why the record could not be read', async () => {
        const element = render({ recordId: '500000000000001AAA' });

        // eslint-disable-next-line @lwc/lwc/no-unexpected-wire-adapter-usages
        getRecord.error({ message: 'The requested resource does not exist' });
        await flushPromises();

        expect(shown(element, '.record-notice').textContent).toBe(
            'The record could not be read (The requested resource does not exist); enter the values yourself.'
        );
    });
});
